"""SQLAlchemy 2 helpers."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import MappedColumn, mapped_column

from pyidsql.errors import InvalidPrefix, translate

_PREFIX = re.compile(r"[A-Z_][A-Z0-9_]{0,19}")


def prefixed_id_default(prefix: str) -> sa.TextClause:
    """Return a server default that draws the column's value from *prefix*.

    ``Column("id", Text, primary_key=True, server_default=prefixed_id_default("CUS"))``
    renders ``DEFAULT idsql.generate_id('CUS')``. The prefix is checked here, so
    nothing but a valid prefix ever reaches the DDL.
    """
    return sa.text(f"idsql.generate_id('{_check_prefix(prefix)}')")


def state_versioned(
    table: sa.Table,
    version_column: str | None = "state_version",
    parent: sa.Table | str | None = None,
    parent_fk: str | None = None,
    history: bool = False,
) -> sa.Table:
    """Enable state versions on *table* in its DDL: right after ``CREATE TABLE``; return *table*.

    ``metadata.create_all()`` creates a parent before its children, so their triggers follow in
    the same order. Before ``DROP TABLE`` the triggers are removed with ``disable_state_version``
    (history stays). With declarative classes: ``state_versioned(Entity.__table__, parent="session")``.
    """
    from pyidsql.state_versions import disable_state_version, enable_state_version

    def _name(conn: sa.Connection, t: sa.Table | str | None) -> str | None:
        if t is None or isinstance(t, str):
            return t
        return conn.dialect.identifier_preparer.format_table(t)

    def after_create(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
        name = _name(connection, target)
        assert name is not None
        enable_state_version(connection, name, version_column, _name(connection, parent), parent_fk, history)

    def before_drop(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
        name = _name(connection, target)
        assert name is not None
        disable_state_version(connection, name)

    sa.event.listen(table, "after_create", after_create)
    sa.event.listen(table, "before_drop", before_drop)
    return table


def _check_prefix(prefix: object) -> str:
    """Return *prefix* if it is a valid prefix, else raise InvalidPrefix."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidPrefix(
            f'invalid prefix "{prefix}"',
            hint="Use 1-20 characters A-Z, 0-9 or _, starting with a letter or _, for example CUS.",
        )
    return prefix


class PrefixedId(sa.types.TypeDecorator[str]):
    """Store an ID of one prefix as text; the prefix is checked when the type is made."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, prefix: str, *, digits: int = 4, min_letters: int = 3) -> None:
        """Check *prefix* and keep it with the format for the column's CHECK."""
        super().__init__()
        self.prefix = _check_prefix(prefix)
        self.digits = int(digits)
        self.min_letters = int(min_letters)


def _attach_check(column: sa.Column[Any], prefix: str, digits: int, min_letters: int) -> None:
    """Add the CHECK ``idsql.is_valid_id(column, prefix, …)`` to the table *column* joins."""

    def after_attach(col: sa.Column[Any], table: sa.Table) -> None:
        table.append_constraint(
            sa.CheckConstraint(
                sa.func.idsql.is_valid_id(col, sa.literal(prefix), sa.literal(digits), sa.literal(min_letters)),
                name=f"{table.name}_{col.name}_is_valid_id",
            )
        )

    sa.event.listen(column, "after_parent_attach", after_attach)


def prefixed_id_column(
    prefix: str,
    name: str | None = None,
    *,
    digits: int = 4,
    min_letters: int = 3,
    primary_key: bool = True,
    **kw: Any,
) -> sa.Column[str]:
    """Return a column whose value defaults to the next ID of *prefix* and is checked by the database.

    The column gets ``DEFAULT idsql.generate_id('<prefix>')`` and, once it joins a table, a CHECK
    ``<table>_<column>_is_valid_id`` calling ``idsql.is_valid_id(<column>, '<prefix>', digits,
    min_letters)``. A prefix with another format than 4 digits and 3 letters needs
    ``configure_prefix`` before its first ID.
    """
    type_ = PrefixedId(prefix, digits=digits, min_letters=min_letters)
    args: list[Any] = [] if name is None else [name]
    column: sa.Column[str] = sa.Column(
        *args, type_, primary_key=primary_key, server_default=prefixed_id_default(prefix), **kw
    )
    _attach_check(column, type_.prefix, type_.digits, type_.min_letters)
    return column


def mapped_prefixed_id(
    prefix: str,
    name: str | None = None,
    *,
    digits: int = 4,
    min_letters: int = 3,
    primary_key: bool = True,
    **kw: Any,
) -> MappedColumn[str]:
    """Return :func:`prefixed_id_column` as a declarative ``mapped_column``."""
    type_ = PrefixedId(prefix, digits=digits, min_letters=min_letters)
    args: list[Any] = [] if name is None else [name]
    mapped: MappedColumn[str] = mapped_column(
        *args, type_, primary_key=primary_key, server_default=prefixed_id_default(prefix), **kw
    )
    _attach_check(mapped.column, type_.prefix, type_.digits, type_.min_letters)
    return mapped


class StateVersioned:
    """Declarative mixin: enable state versions on the subclass's table in ``create_all``.

    Options go in ``__state_version__``, the keyword arguments of :func:`state_versioned`:
    ``class Entity(StateVersioned, Base): __state_version__ = {"parent": "chat_session"}``.
    """

    __state_version__: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        # Declarative maps the class in its own __init_subclass__: the table exists from here on.
        table = cls.__dict__.get("__table__")
        if isinstance(table, sa.Table):
            state_versioned(table, **cls.__state_version__)


def state_version_mapper_args(column: MappedColumn[Any] | sa.Column[Any], **mapper_args: Any) -> dict[str, Any]:
    """Return ``__mapper_args__`` for optimistic locking on a server-side version column.

    ``__mapper_args__ = state_version_mapper_args(state_version)``, below ``state_version:
    Mapped[int] = mapped_column(BigInteger, server_default="1")``. The ORM puts the version it
    loaded in each UPDATE's ``WHERE`` and raises ``StaleDataError`` when another transaction
    changed the row first; the row trigger bumps the version (``version_id_generator=False``), and
    the ORM reads it back with ``RETURNING``. Other mapper arguments pass through.
    """
    return {"version_id_col": column, "version_id_generator": False, **mapper_args}


def translate_errors(target: sa.Engine) -> None:
    """Raise idsql's own SQLSTATEs on *target* as :mod:`pyidsql.errors` classes.

    SQLAlchemy 2 hooks errors per engine, so this covers every connection and session of *target*;
    other errors stay SQLAlchemy's own. SQLAlchemy chains the raised error to the driver's, so
    ``__cause__`` is the ``psycopg.Error`` with the SQLSTATE and ``diag``.
    """

    def handle_error(context: sa.engine.ExceptionContext) -> None:
        mapped = translate(context.original_exception)
        if mapped is not None:
            raise mapped from context.original_exception

    sa.event.listen(target, "handle_error", handle_error)
