"""Upgrade idsql 0.2.0 → 0.3.0, and downgrade back to 0.2.0.

Runs ``sql/releases/idsql--0.2.0--0.3.0.sql``, the step every channel runs. The downgrade runs the
install script of 0.2.0 over the install, which puts back every routine 0.2.0 has, then drops the
routines of 0.3.0 that script did not create again after its marker table (0.3.0 adds the reads by
time: ``row_history(regclass, jsonb, timestamptz)`` and ``children_as_of_time``). A test compares
the catalog with a fresh 0.2.0 install.

Revision ID: idsql_0003
Revises: idsql_0002
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op

from pyidsql import _release
from pyidsql import alembic as idsql_alembic

revision: str = "idsql_0003"
down_revision: str | Sequence[str] | None = "idsql_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# CREATE OR REPLACE rewrites a routine's catalog row, so the routines the 0.2.0 script ran for
# have this transaction as their xmin and a later command than the marker table's as their cmin
# (the downgrade of a later release, run before in the same transaction, rewrote some too, but
# before the marker). Only routines named in the 0.3.0 script are looked at: objects of the
# user's in the idsql schema stay.
MARKER = "CREATE TEMPORARY TABLE idsql_downgrade_0_3_0 () ON COMMIT DROP;\n"

DOWNGRADE_AFTER = """
DO $downgrade$
DECLARE
    v_this_transaction xid := (SELECT c.xmin FROM pg_catalog.pg_class AS c
                                WHERE c.oid = 'pg_temp.idsql_downgrade_0_3_0'::pg_catalog.regclass);
    v_since bigint := (SELECT c.cmin::text::bigint FROM pg_catalog.pg_class AS c
                        WHERE c.oid = 'pg_temp.idsql_downgrade_0_3_0'::pg_catalog.regclass);
    v_routine text;
BEGIN
    FOR v_routine IN
        SELECT pg_catalog.format('%%s %%s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                                 p.oid::pg_catalog.regprocedure)
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = 'idsql'::pg_catalog.regnamespace AND p.proname = ANY (%(routines)s::name[])
           AND NOT (p.xmin = v_this_transaction AND p.cmin::text::bigint > v_since)
    LOOP
        EXECUTE 'DROP ' || v_routine;
    END LOOP;
END
$downgrade$;
DROP TABLE pg_temp.idsql_downgrade_0_3_0;
"""


def upgrade() -> None:
    idsql_alembic.run_release(_release.step_script("0.2.0", "0.3.0"), "0.3.0")
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")


def _routines_of_0_3_0() -> str:
    """Return, as an SQL array literal, the routine names the 0.3.0 install script creates."""
    names = re.findall(
        r"^CREATE OR REPLACE (?:FUNCTION|PROCEDURE) idsql\.(\w+)\(", _release.install_script("0.3.0"), re.M
    )
    return "'{" + ",".join(sorted(set(names))) + "}'"


def downgrade() -> None:
    script = MARKER + _release.install_script("0.2.0") + DOWNGRADE_AFTER % {"routines": _routines_of_0_3_0()}
    idsql_alembic.execute_script(script)
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")
