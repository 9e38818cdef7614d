"""Install the idsql schema (root of the idsql branch).

Until the first release is cut this revision installs the *current* ``sql/`` head: it runs
``pyidsql.install.install_script()``, which is idempotent, so running it over any existing
install upgrades that install in place. When versioned scripts are frozen (a later change),
this revision is pinned to the first released script and each later release gets its own
revision ``idsql_0002``, ``idsql_0003``, … that runs one frozen upgrade step.

Downgrading it drops the schema, and refuses while objects outside idsql depend on it.

Revision ID: idsql_0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pyidsql import alembic as idsql_alembic
from pyidsql.install import install_script

revision: str = "idsql_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("idsql",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    idsql_alembic.execute_script(install_script())
    op.execute("UPDATE idsql.installation SET channel = 'alembic'")


def downgrade() -> None:
    idsql_alembic.drop_schema()
