"""The Alembic operation op.set_id_strategy, in a throwaway application project."""

from __future__ import annotations

from pathlib import Path

import psycopg
from test_install import AlembicApp

APP_0003 = """
from alembic import op

import pyidsql.alembic  # registers op.set_id_strategy

revision = "app_0003"
down_revision = "app_0002"
branch_labels = None
depends_on = "idsql"


def upgrade():
    op.execute('CREATE TABLE "App Project" (id text PRIMARY KEY)')
    op.set_id_strategy("App Project", "server", "prefix:PRJ", schema="public")


def downgrade():
    op.invoke(pyidsql.alembic.SetIdStrategyOp("App Project", "server", "prefix:PRJ", schema="public").reverse())
"""


def _strategies(dsn: str) -> list[tuple[str, str, str | None]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT tbl::text, strategy, generator FROM idsql.id_strategy").fetchall()


def test_set_id_strategy_alembic_operation_upgrades_and_downgrades(empty_dsn: str, tmp_path: Path) -> None:
    app = AlembicApp(tmp_path / "app", empty_dsn, "pyidsql:migrations/versions")
    (app.root / "migrations" / "versions" / "app_0003.py").write_text(APP_0003)
    app("upgrade", "heads")
    assert _strategies(empty_dsn) == [('"App Project"', "server", "prefix:PRJ")]
    app("downgrade", "app_0002")
    assert _strategies(empty_dsn) == [('"App Project"', "client", None)]
    offline = app("upgrade", "app_0002:app_0003", "--sql")
    assert "idsql.set_id_strategy(CAST(concat_ws('.', quote_ident(CAST('public' AS text))" in offline
