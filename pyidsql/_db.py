"""Run one statement on whatever connection the caller holds, translating errors.

Accepted: a psycopg ``Connection`` (or ``AsyncConnection`` for the async twins),
an SQLAlchemy ``Connection`` or ``Session`` on the psycopg driver. SQLAlchemy
objects are unwrapped to the psycopg connection underneath, which is in the
same transaction, so there is one code path and one error translator.
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, LiteralString, TypeAlias

import psycopg

from pyidsql.errors import translate_errors

if TYPE_CHECKING:
    import sqlalchemy
    import sqlalchemy.orm

Connectable: TypeAlias = "psycopg.Connection[Any] | sqlalchemy.Connection | sqlalchemy.orm.Session"
AsyncConnectable: TypeAlias = "psycopg.AsyncConnection[Any]"
Params: TypeAlias = Sequence[Any]


def _sa_connection(conn: Any) -> sqlalchemy.Connection:
    import sqlalchemy
    import sqlalchemy.orm

    if isinstance(conn, sqlalchemy.orm.Session):
        return conn.connection()
    if isinstance(conn, sqlalchemy.Connection):
        return conn
    raise TypeError(
        f"pyidsql needs a psycopg 3 Connection, or an SQLAlchemy Connection or Session; got {type(conn).__name__}"
    )


def fetch_all(conn: Connectable, query: LiteralString, params: Params = ()) -> list[tuple[Any, ...]]:
    """Run *query* and return all rows.

    SQLAlchemy objects run it through ``exec_driver_sql``, so their autobegin,
    events and ``commit()`` behave as for any other statement.
    """
    if isinstance(conn, psycopg.Connection):
        with translate_errors(), conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    sa_conn = _sa_connection(conn)
    with translate_errors():
        return [tuple(row) for row in sa_conn.exec_driver_sql(query, tuple(params)).fetchall()]


def fetch_scalar(conn: Connectable, query: LiteralString, params: Params = ()) -> Any:
    """Run *query* and return the first column of its single row."""
    rows = fetch_all(conn, query, params)
    return rows[0][0]


async def afetch_all(conn: AsyncConnectable, query: LiteralString, params: Params = ()) -> list[tuple[Any, ...]]:
    """Async twin of :func:`fetch_all`."""
    if not isinstance(conn, psycopg.AsyncConnection):
        raise TypeError(f"pyidsql.aio needs a psycopg AsyncConnection; got {type(conn).__name__}")
    with translate_errors():
        async with conn.cursor() as cur:
            await cur.execute(query, params)
            return await cur.fetchall()


async def afetch_scalar(conn: AsyncConnectable, query: LiteralString, params: Params = ()) -> Any:
    """Async twin of :func:`fetch_scalar`."""
    rows = await afetch_all(conn, query, params)
    return rows[0][0]
