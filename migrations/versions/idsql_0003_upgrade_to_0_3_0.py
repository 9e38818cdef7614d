"""Upgrade idsql 0.2.0 → 0.3.0, and downgrade back to 0.2.0.

Runs ``sql/releases/idsql--0.2.0--0.3.0.sql``, the step every channel runs. The downgrade runs the
install script of 0.2.0 over the install, which puts back every routine 0.2.0 has, then drops the
routines of 0.3.0 that script did not create again after its marker table (0.3.0 adds the reads by
time: ``row_history(regclass, jsonb, timestamptz)`` and ``children_as_of_time``), and the index of
departures children_as_of reads. A test compares
the catalog with a fresh 0.2.0 install.

Revision ID: idsql_0003
Revises: idsql_0002
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pyidsql import _release
from pyidsql import alembic as idsql_alembic

revision: str = "idsql_0003"
down_revision: str | Sequence[str] | None = "idsql_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The downgrade marks where it starts, runs the 0.2.0 install script, then drops the routines of
# 0.3.0 that script did not create again (pyidsql.alembic.drop_routines_not_rewritten).
MARKER = "idsql_downgrade_0_3_0"


def upgrade() -> None:
    idsql_alembic.run_release(_release.step_script("0.2.0", "0.3.0"), "0.3.0")
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")


def downgrade() -> None:
    script = (
        f"CREATE TEMPORARY TABLE {MARKER} () ON COMMIT DROP;\n"
        + _release.install_script("0.2.0")
        + idsql_alembic.drop_routines_not_rewritten(MARKER, "0.3.0")
        + "DROP INDEX IF EXISTS idsql.row_version_departed_idx;\n"
        + f"DROP TABLE pg_temp.{MARKER};\n"
    )
    idsql_alembic.execute_script(script)
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")
