"""SQLAlchemy 2 helpers."""

from __future__ import annotations

import re

import sqlalchemy as sa

from pyidsql.errors import InvalidPrefix

_PREFIX = re.compile(r"[A-Z_][A-Z0-9_]{0,19}")


def prefixed_id_default(prefix: str) -> sa.TextClause:
    """Return a server default that draws the column's value from *prefix*.

    ``Column("id", Text, primary_key=True, server_default=prefixed_id_default("CUS"))``
    renders ``DEFAULT idsql.generate_id('CUS')``. The prefix is checked here, so
    nothing but a valid prefix ever reaches the DDL.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidPrefix(
            f'invalid prefix "{prefix}"',
            hint="Use 1-20 characters A-Z, 0-9 or _, starting with a letter or _, for example CUS.",
        )
    return sa.text(f"idsql.generate_id('{prefix}')")


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
