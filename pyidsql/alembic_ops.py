"""Alembic operations ``op.enable_state_version(...)`` and ``op.disable_state_version(...)``.

Importing :mod:`pyidsql.alembic` (or this module) registers them. Each is the other's reverse, so
``alembic revision --autogenerate`` tooling and hand-written downgrades pair them up::

    def upgrade():
        op.enable_state_version("entity", parent="chat_session", history=True)

    def downgrade():
        op.disable_state_version("entity")

The SQL they emit names tables as values (``quote_ident(...)::regclass``), never as spliced
identifiers, and works offline (``alembic upgrade --sql``) as well.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations


def _literal(value: str | None) -> str:
    """Return *value* as an SQL string literal (standard_conforming_strings), or NULL."""
    if value is None:
        return "NULL"
    if "\x00" in value:
        raise ValueError("a name cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


def _table(table: str, schema: str | None) -> str:
    name = f"pg_catalog.quote_ident({_literal(table)})"
    if schema is not None:
        name = f"pg_catalog.quote_ident({_literal(schema)}) || '.' || {name}"
    return f"({name})::pg_catalog.regclass"


@Operations.register_operation("enable_state_version")
class EnableStateVersionOp(MigrateOperation):
    """Track changes of a table: ``idsql.enable_state_version`` (idempotent)."""

    def __init__(
        self,
        table: str,
        version_column: str | None = "state_version",
        parent: str | None = None,
        parent_fk: str | None = None,
        history: bool = False,
        schema: str | None = None,
    ) -> None:
        self.table = table
        self.version_column = version_column
        self.parent = parent
        self.parent_fk = parent_fk
        self.history = history
        self.schema = schema

    @classmethod
    def enable_state_version(cls, operations: Operations, table: str, **kw: Any) -> None:
        """Track changes of *table*; *parent* is a table name as SQL resolves it (``"app.session"``)."""
        operations.invoke(cls(table, **kw))

    def reverse(self) -> DisableStateVersionOp:
        return DisableStateVersionOp(
            self.table,
            schema=self.schema,
            version_column=self.version_column,
            parent=self.parent,
            parent_fk=self.parent_fk,
            history=self.history,
        )

    def to_sql(self) -> str:
        parent = "NULL" if self.parent is None else f"{_literal(self.parent)}::pg_catalog.regclass"
        return (
            f"SELECT idsql.enable_state_version({_table(self.table, self.schema)}, "
            f"version_column => {_literal(self.version_column)}, parent => {parent}, "
            f"parent_fk => {_literal(self.parent_fk)}, history => {'true' if self.history else 'false'})"
        )


@Operations.register_operation("disable_state_version")
class DisableStateVersionOp(MigrateOperation):
    """Stop tracking a table: ``idsql.disable_state_version`` (data and history stay).

    The settings are only needed to reverse it into an :class:`EnableStateVersionOp`.
    """

    def __init__(
        self,
        table: str,
        schema: str | None = None,
        version_column: str | None = "state_version",
        parent: str | None = None,
        parent_fk: str | None = None,
        history: bool = False,
    ) -> None:
        self.table = table
        self.schema = schema
        self.version_column = version_column
        self.parent = parent
        self.parent_fk = parent_fk
        self.history = history

    @classmethod
    def disable_state_version(cls, operations: Operations, table: str, **kw: Any) -> None:
        """Remove pyidsql's state-version triggers from *table*."""
        operations.invoke(cls(table, **kw))

    def reverse(self) -> EnableStateVersionOp:
        return EnableStateVersionOp(
            self.table,
            version_column=self.version_column,
            parent=self.parent,
            parent_fk=self.parent_fk,
            history=self.history,
            schema=self.schema,
        )

    def to_sql(self) -> str:
        return f"SELECT idsql.disable_state_version({_table(self.table, self.schema)})"


@Operations.implementation_for(EnableStateVersionOp)
def _enable(operations: Operations, operation: EnableStateVersionOp) -> None:
    operations.execute(operation.to_sql())


@Operations.implementation_for(DisableStateVersionOp)
def _disable(operations: Operations, operation: DisableStateVersionOp) -> None:
    operations.execute(operation.to_sql())
