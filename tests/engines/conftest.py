"""Servers for the engines users outgrow into: a real pg_tle, a real Citus cluster.

Both run on the system PostgreSQL 15 with a library preloaded (``make engine-deps`` puts the
libraries in place, from the vendored builds). They never share the session's server:

- ``clean_tree``: a copy of the PostgreSQL 15 installation whose share directory has nothing of
  idsql in it, as on a managed server. The CREATE EXTENSION tests write ``idsql.control`` into the
  system share directory; pg_tle refuses to register an extension whose control file exists.
  PostgreSQL finds its share and library directories relative to the binary, so a copy of
  ``bin/`` beside a filtered copy of ``share/`` is a server without idsql's files.
- ``citus_cluster`` (see ``test_citus*.py``): a coordinator and two workers.

``PYIDSQL_REQUIRE_ENGINES=1`` (``make test-15`` sets it where the vendored builds are) turns a
missing library from a skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from engines import PG15, require_library, sharedir, unavailable

__all__ = ["PG15", "require_library", "sharedir", "unavailable"]


@pytest.fixture(scope="session")
def clean_tree() -> Iterator[Path]:
    """Return the ``bin/`` of a PostgreSQL 15 installation with no idsql files in its share directory.

    ``lib/`` is the system one (a symbolic link): the preloaded libraries are the installed ones.
    ``bin/`` is a copy, not links: PostgreSQL resolves links to find where it is installed.
    """
    require_library("pg_tle")
    base = Path(tempfile.mkdtemp(prefix="pyidsql-tree-"))
    os.chmod(base, 0o755)  # the server's OS user runs the binaries from here
    try:
        system_share = sharedir(PG15)
        root = base / "lib" / "postgresql" / PG15.name
        root.mkdir(parents=True)
        shutil.copytree(PG15 / "bin", root / "bin", symlinks=True)
        (root / "lib").symlink_to(PG15 / "lib")
        share = base / "share" / "postgresql" / PG15.name
        shutil.copytree(
            system_share,
            share,
            symlinks=True,
            ignore=lambda _d, names: [n for n in names if n == "idsql.control" or n.startswith("idsql--")],
        )
        assert sharedir(root) == share, "this PostgreSQL does not find its share directory beside its binaries"
        assert not list((share / "extension").glob("idsql*"))
        yield root / "bin"
    finally:
        shutil.rmtree(base, ignore_errors=True)
