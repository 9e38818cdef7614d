"""What the engine tests share: where PostgreSQL 15 is, and skipping or failing when a library is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

PG15 = Path(os.environ.get("PYIDSQL_ENGINES_PGROOT", "/usr/lib/postgresql/15"))
ENV_REQUIRE = "PYIDSQL_REQUIRE_ENGINES"


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it where the engines are required."""
    if os.environ.get(ENV_REQUIRE, "").strip() in {"1", "true", "yes", "on"}:
        pytest.fail(f"{reason} ({ENV_REQUIRE} is set: run make engine-deps)", pytrace=False)
    pytest.skip(reason)


def sharedir(root: Path) -> Path:
    """Return the share directory of the installation whose ``bin/`` is under *root*."""
    out = subprocess.run([str(root / "bin" / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def require_library(name: str) -> None:
    """Fail or skip unless PostgreSQL 15 has the library and the extension files of *name*."""
    if not (PG15 / "bin" / "initdb").is_file():
        unavailable(f"no PostgreSQL 15 under {PG15}")
    if not (PG15 / "lib" / f"{name}.so").is_file():
        unavailable(f"{name} is not installed into PostgreSQL 15 ({PG15 / 'lib'})")
    if not (sharedir(PG15) / "extension" / f"{name}.control").is_file():
        unavailable(f"{name}.control is not in PostgreSQL 15's share directory")
