"""Locate the SQL sources and the Alembic migrations shipped with the package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# pyidsql/sql and pyidsql/migrations are symlinks to the top-level folders in the
# repository; in a wheel they are real folders. Either way these paths work.
SQL_DIR = PACKAGE_DIR / "sql"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def sql_files() -> list[Path]:
    """Return the SQL source files in install order, as listed in ``sql/manifest.txt``."""
    manifest = SQL_DIR / "manifest.txt"
    names = [
        line.strip() for line in manifest.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [SQL_DIR / name for name in names]
