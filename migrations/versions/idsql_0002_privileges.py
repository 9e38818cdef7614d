"""Upgrade idsql 0.1.0 → 0.2.0: the privilege model (grant_access), frozen step.

Runs ``sql/releases/idsql--0.1.0--0.2.0.sql``, the step every channel runs. The downgrade puts
back the catalog of 0.1.0: it drops what 0.2.0 added, gives the administrative functions back
to PUBLIC and runs the install script of 0.1.0 over the result (a test compares it with a
fresh 0.1.0 install).

Revision ID: idsql_0002
Revises: idsql_0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pyidsql import _release
from pyidsql import alembic as idsql_alembic

revision: str = "idsql_0002"
down_revision: str | Sequence[str] | None = "idsql_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOWNGRADE = """
DROP FUNCTION IF EXISTS idsql.grant_access(regrole, boolean);
DROP FUNCTION IF EXISTS idsql._share_sequence(regclass);
GRANT EXECUTE ON FUNCTION idsql.reset_sequence(text, text), idsql.configure_prefix(text, text, integer, integer),
    idsql.sync_prefix(text, regclass, name), idsql.initialize_table(regclass, name, bigint),
    idsql.initialize(regclass[]), idsql.fix_sequence(regclass, name, bigint, boolean),
    idsql.fix_all_sequences_report(name[], bigint, boolean, boolean), idsql.set_id_strategy(regclass, text, text),
    idsql.enable_late_reference_resolution(regclass, text), idsql.disable_late_reference_resolution(regclass),
    idsql.enable_state_version(regclass, name, regclass, name, boolean), idsql.disable_state_version(regclass),
    idsql.prune_history(regclass, integer) TO PUBLIC;
GRANT EXECUTE ON PROCEDURE idsql.fix_all_sequences(name[], bigint, boolean, boolean) TO PUBLIC;
ALTER FUNCTION idsql.generate_id(text) SECURITY INVOKER;
ALTER FUNCTION idsql.bulk_generate_ids(text, integer) SECURITY INVOKER;
"""


def upgrade() -> None:
    idsql_alembic.run_release(_release.step_script("0.1.0", "0.2.0"), "0.2.0")
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")


def downgrade() -> None:
    idsql_alembic.execute_script(DOWNGRADE + _release.install_script("0.1.0"))
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")
