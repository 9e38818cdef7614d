"""Install idsql 0.1.0 (root of the idsql branch).

Runs the frozen install script of the first release, ``sql/releases/idsql--0.1.0.sql``; each
later release has its own revision that runs one frozen upgrade step (``idsql_0002``: 0.1.0 →
0.2.0, ``idsql_0003``: 0.2.0 → 0.3.0). The script can run over an existing install, so running
this revision again (from a second Alembic history that tracks idsql too) is harmless: the
later revisions bring the install back to their version.

Downgrading it drops the schema, and refuses while objects outside idsql depend on it.

Revision ID: idsql_0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pyidsql import _release
from pyidsql import alembic as idsql_alembic

revision: str = "idsql_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("idsql",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    idsql_alembic.run_release(_release.install_script("0.1.0"), "0.1.0")
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")


def downgrade() -> None:
    idsql_alembic.drop_schema()
