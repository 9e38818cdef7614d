"""Locate the SQL sources and the Alembic migrations shipped with the package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# pyidsql/sql and pyidsql/migrations are symlinks to the top-level folders in the
# repository; in a wheel they are real folders. Either way these paths work.
SQL_DIR = PACKAGE_DIR / "sql"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"

# The folders of sql/ that hold installed objects, one per capability, with the title the docs give
# each; a source file's capability is its first folder. installer/, upgrades/ and releases/ hold
# the scripts the channels run around them.
CAPABILITIES = {
    "core": "Installation",
    "prefixed_ids": "Prefixed IDs",
    "table_ids": "Table IDs",
    "negotiation": "ID negotiation",
    "state_versions": "State versions",
    "sequence_repair": "Sequence repair",
    "privileges": "Privileges",
}


def sql_files() -> list[Path]:
    """Return the SQL source files in install order, as listed in ``sql/manifest.txt``."""
    manifest = SQL_DIR / "manifest.txt"
    names = [
        line.strip() for line in manifest.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [SQL_DIR / name for name in names]


def capability(path: Path) -> str:
    """Return the capability folder of the source file *path* (``core``, ``prefixed_ids``, ...)."""
    return path.relative_to(SQL_DIR).parts[0]
