"""idsql through a real pg_tle, as on a managed server: no idsql file on disk, a non-superuser owner.

The server is PostgreSQL 15 with ``shared_preload_libraries = pg_tle``, started from ``clean_tree``
(a share directory without ``idsql.control``). Each test gets a database owned by ``app_owner``,
a login role without superuser that holds ``pgtle_admin``; a superuser has run ``CREATE EXTENSION
pg_tle`` there, as the provider's administrator role does. Everything else runs as the owner.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from test_extension import _history_reads
from test_state_versions import SCHEMA as MOVES_SCHEMA
from test_state_versions import _random_moves_history as random_moves_history

import pyidsql
import pyidsql.install
from pyidsql import __version__, _release
from pyidsql.tooling.cli import main
from pyidsql.tooling.pgserver import PgServer, local_cluster

OWNER = "app_owner"
FIRST = _release.versions()[0]


@pytest.fixture(scope="module")
def tle_server(clean_tree: Path) -> Iterator[PgServer]:
    with local_cluster(clean_tree, {"shared_preload_libraries": "pg_tle"}) as server:
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as c:
            c.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE").format(sql.Identifier(OWNER)))
        yield server


@pytest.fixture
def tle_db(tle_server: PgServer) -> Callable[..., str]:
    """Return a factory of databases with pg_tle (its newest API, or *api*), owned by ``app_owner``."""
    made = 0

    def make(api: str | None = None) -> str:
        nonlocal made
        made += 1
        name = f"tle_{made}"
        with psycopg.connect(tle_server.conninfo("postgres"), autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER)))
        with psycopg.connect(tle_server.conninfo(name), autocommit=True) as c:
            c.execute(
                sql.SQL("CREATE EXTENSION pg_tle VERSION {}").format(sql.Literal(api))
                if api
                else "CREATE EXTENSION pg_tle"
            )
            c.execute(sql.SQL("GRANT pgtle_admin TO {}").format(sql.Identifier(OWNER)))
        return make_conninfo(tle_server.conninfo(name), user=OWNER)

    return make


def _one(dsn: str, query: str, params: Any = None) -> Any:
    with psycopg.connect(dsn, autocommit=True) as c:
        row = c.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _registered(dsn: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Return the versions pg_tle offers for idsql (installable or reachable) and its update steps."""
    with psycopg.connect(dsn, autocommit=True) as c:
        if not c.execute("SELECT count(*) FROM pgtle.available_extensions() WHERE name = 'idsql'").fetchone()[0]:
            return [], []  # extension_update_paths raises for an extension pg_tle does not have
        versions = [
            r[0]
            for r in c.execute(
                "SELECT version FROM pgtle.available_extension_versions() WHERE name = 'idsql' ORDER BY 1"
            )
        ]
        steps = [
            (r[0], r[1])
            for r in c.execute(
                "SELECT source, target FROM pgtle.extension_update_paths('idsql')"
                " WHERE path = source || '--' || target ORDER BY 1, 2"
            )
        ]
    return versions, steps


def _exercise_every_capability(dsn: str) -> None:
    """One call per capability, from SQL, as the owner: each must work on the pg_tle install."""
    with psycopg.connect(dsn, autocommit=True) as c:
        # Prefixed IDs
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
        assert pyidsql.bulk_generate_ids(c, "CUS", 2) == ["CUS-AAA0002", "CUS-AAA0003"]
        # Table IDs
        c.execute("CREATE TABLE actor (id bigint PRIMARY KEY, name text NOT NULL)")
        c.execute("INSERT INTO actor VALUES (7, 'seven')")
        assert pyidsql.next_id(c, "actor") == 8
        assert pyidsql.insert_with_retry(c, "actor", {"name": "nine"})["id"] == 9
        # Sequence repair
        c.execute("CREATE TABLE item (id bigserial PRIMARY KEY)")
        c.execute("INSERT INTO item VALUES (41)")
        fixes = pyidsql.fix_all_sequences(c)
        assert any(f.table_name == "item" and f.next_value == 42 for f in fixes), fixes
        # State versions
        c.execute("CREATE TABLE doc (doc_id text PRIMARY KEY, title text, state_version bigint NOT NULL DEFAULT 1)")
        pyidsql.enable_state_version(c, "doc", history=True)
        c.execute("INSERT INTO doc (doc_id, title) VALUES ('d', 'a')")
        c.execute("UPDATE doc SET title = 'b'")
        assert [h.state_version for h in pyidsql.row_history(c, "doc", {"doc_id": "d"})] == [1, 2]
        # ID negotiation
        c.execute("CREATE TABLE note (note_id text PRIMARY KEY, doc_id text)")
        pyidsql.set_id_strategy(c, "note", "server", "prefix:NOT")
        temp = pyidsql.new_temp_id(c, "note")
        c.execute("INSERT INTO note VALUES (%s, 'd')", (temp,))
        server_id = pyidsql.assign_server_id(c, "note", temp)
        assert server_id == "NOT-AAA0001"
        assert pyidsql.resolve_id(c, "note", temp) == server_id


def test_install_through_pg_tle_as_a_database_owner(
    tle_db: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = tle_db()
    assert _one(dsn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
    assert _one(dsn, "SELECT pg_has_role(current_user, 'pgtle_admin', 'MEMBER')") is True
    # Nothing of idsql on disk: pg_tle's registration is the only way CREATE EXTENSION finds it.
    assert _one(dsn, "SELECT count(*) FROM pg_available_extensions WHERE name = 'idsql'") == 0

    assert main(["install", "--tle", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == f"idsql {__version__} installed through pg_tle\n"
    assert _one(dsn, "SELECT extversion FROM pg_extension WHERE extname = 'idsql'") == __version__
    chain = _release.versions()
    assert _registered(dsn) == (chain, list(pairwise(chain)))

    assert main(["status", "--dsn", dsn]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"idsql {__version__} (installed through pg_tle at "), out
    functions = _one(dsn, "SELECT count(*) FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace")
    assert f"functions: {functions} " in out
    _exercise_every_capability(dsn)


def test_a_second_install_through_pg_tle_changes_nothing(
    tle_db: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = tle_db()
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    assert pyidsql.generate_id(psycopg.connect(dsn, autocommit=True), "INV") == "INV-AAA0001"
    state = (
        _registered(dsn),
        _one(dsn, "SELECT extversion FROM pg_extension WHERE extname = 'idsql'"),
        _one(dsn, "SELECT array_agg(oid ORDER BY oid) FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace"),
    )
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    capsys.readouterr()
    assert (
        _registered(dsn),
        _one(dsn, "SELECT extversion FROM pg_extension WHERE extname = 'idsql'"),
        _one(dsn, "SELECT array_agg(oid ORDER BY oid) FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace"),
    ) == state
    # The counter survived: the second install ran no install script over the data.
    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.generate_id(c, "INV") == "INV-AAA0002"


def test_upgrade_from_the_first_release_through_every_registered_step(tle_db: Callable[..., str]) -> None:
    # A database that got the first release through pg_tle (as pyidsql FIRST registered it),
    # with a counter and a tracked table, upgraded by this version's install.
    dsn = tle_db()
    _install_first_release(dsn)
    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
        c.execute("CREATE TABLE doc (doc_id text PRIMARY KEY, title text, state_version bigint NOT NULL DEFAULT 1)")
        c.execute("SELECT idsql.enable_state_version('doc', history => true)")
        c.execute("INSERT INTO doc (doc_id, title) VALUES ('d', 'v1')")
    assert _registered(dsn) == ([FIRST], [])

    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.install.install_tle(c) == __version__
    chain = _release.versions()
    assert _registered(dsn) == (chain, list(pairwise(chain)))
    assert _one(dsn, "SELECT extversion FROM pg_extension WHERE extname = 'idsql'") == __version__
    assert _one(dsn, "SELECT version FROM idsql.installation") == __version__
    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0002"
        c.execute("UPDATE doc SET title = 'v2'")
        assert [(h.state_version, h.row_data["title"]) for h in pyidsql.row_history(c, "doc", {"doc_id": "d"})] == [
            (1, "v1"),
            (2, "v2"),
        ]


def test_upgrade_from_the_previous_release_reads_its_history_as_a_fresh_install_does(
    tle_db: Callable[..., str],
) -> None:
    # tests/test_extension.py's test of the same name, through pg_tle: the previous release
    # registered and created as its pyidsql did (the first release, then its steps), half the
    # history written, then this version's install_tle, then the other half.
    chain = _release.versions()
    upgraded, fresh = tle_db(), tle_db()
    _install_first_release(upgraded)
    with psycopg.connect(upgraded, autocommit=True) as c:
        for source, target in pairwise(chain[:-1]):
            script = _release.extension_script(_release.step_script(source, target), install=False)
            c.execute("SELECT pgtle.install_update_path('idsql', %s, %s, %s)", (source, target, script))
        c.execute(sql.SQL("ALTER EXTENSION idsql UPDATE TO {}").format(sql.Literal(chain[-2])))
        assert _one(upgraded, "SELECT extversion FROM pg_extension WHERE extname = 'idsql'") == chain[-2]
    with psycopg.connect(fresh, autocommit=True) as c:
        pyidsql.install.install_tle(c)
    for dsn in (upgraded, fresh):
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(MOVES_SCHEMA)
            random_moves_history(c, random.Random(22))
    with psycopg.connect(upgraded, autocommit=True) as c:
        assert pyidsql.install.install_tle(c) == __version__
    for dsn in (upgraded, fresh):
        with psycopg.connect(dsn, autocommit=True) as c:
            random_moves_history(c, random.Random(23), first=1000)
    numbers = [*range(1, 160), *range(1000, 1160)]
    assert _history_reads(upgraded, numbers) == _history_reads(fresh, numbers)


def test_uninstall_drops_the_extension_and_its_registration(
    tle_db: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = tle_db()
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    assert main(["uninstall", "--dsn", dsn]) == 0
    assert capsys.readouterr().out.endswith("idsql uninstalled\n")
    assert _one(dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'idsql'") == 0
    assert _one(dsn, "SELECT to_regnamespace('idsql') IS NULL") is True
    assert _registered(dsn) == ([], [])
    # And it installs again from nothing.
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"


def _install_first_release(dsn: str) -> None:
    """Install the first release through pg_tle, as pyidsql FIRST registered it."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            "SELECT pgtle.install_extension(%s, %s, %s, %s)",
            ("idsql", FIRST, _release.COMMENT, _release.extension_script(_release.install_script(FIRST), install=True)),
        )
        c.execute("CREATE SCHEMA idsql")
        c.execute(sql.SQL("CREATE EXTENSION idsql SCHEMA idsql VERSION {}").format(sql.Literal(FIRST)))


def _dump_with_history(source: str, bindir: Path, dump: Path, *, upgraded: bool = False) -> None:
    if upgraded:
        _install_first_release(source)
    assert main(["install", "--tle", "--dsn", source]) == 0
    with psycopg.connect(source, autocommit=True) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
        c.execute(
            "CREATE TABLE doc (doc_id text PRIMARY KEY DEFAULT idsql.generate_id('DOC'), title text,"
            " state_version bigint NOT NULL DEFAULT 1)"
        )
        c.execute("SELECT idsql.enable_state_version('doc', history => true)")
        c.execute("INSERT INTO doc (title) VALUES ('v1')")
        c.execute("UPDATE doc SET title = 'v2'")
    subprocess.run([str(bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", source], check=True)


def _restored_carries_on(target: str) -> None:
    with psycopg.connect(target, autocommit=True) as c:
        assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'idsql'").fetchone() == (__version__,)
        assert c.execute("SELECT channel FROM idsql.installation").fetchone() == ("pg_tle",)
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0002"
        c.execute("UPDATE doc SET title = 'v3'")
        assert [
            (h.state_version, h.row_data["title"]) for h in pyidsql.row_history(c, "doc", {"doc_id": "DOC-AAA0001"})
        ] == [(1, "v1"), (2, "v2"), (3, "v3")]
        assert c.execute("INSERT INTO doc (title) VALUES ('new') RETURNING doc_id").fetchone() == ("DOC-AAA0002",)


# The entries of pg_tle itself in a dump's table of contents; its registrations (FUNCTION pgtle
# "idsql--…") are not among them.
PG_TLE_ENTRIES = (" SCHEMA - pgtle ", " EXTENSION - pg_tle", " COMMENT - EXTENSION pg_tle", " TABLE DATA pgtle ")


@pytest.mark.parametrize("upgraded", [False, True], ids=["installed", "upgraded"])
def test_dump_restores_as_the_owner_where_pg_tle_exists(
    tle_server: PgServer, tle_db: Callable[..., str], tmp_path: Path, upgraded: bool
) -> None:
    # The dump carries pg_tle and the scripts registered with it (functions in schema pgtle). The
    # owner restores it into a database where the administrator has created pg_tle, as for the
    # source, leaving out pg_tle's own entries (pg_restore -L): the extension's objects then
    # belong to the owner, who runs its CREATE EXTENSION. pg_dump writes the registered scripts
    # the extension depends on before it: the restore fails if the head's path is not among them
    # (pg_tle records no dependency on the second step of a path), whether the source installed
    # the head or upgraded the first release to it.
    assert tle_server.bindir is not None
    dump, listing = tmp_path / "app.dump", tmp_path / "restore.list"
    _dump_with_history(tle_db(), tle_server.bindir, dump, upgraded=upgraded)
    toc = subprocess.run(
        [str(tle_server.bindir / "pg_restore"), "-l", str(dump)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    kept = [line for line in toc if not any(entry in line for entry in PG_TLE_ENTRIES)]
    assert len(toc) - len(kept) == 4, toc
    listing.write_text("\n".join(kept) + "\n")
    target = tle_db()
    restore = subprocess.run(
        [str(tle_server.bindir / "pg_restore"), "--exit-on-error", "-L", str(listing), "-d", target, str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr
    _restored_carries_on(target)


def test_the_five_argument_api_of_pg_tle_1_3_is_recognised(tle_db: Callable[..., str]) -> None:
    # pg_tle 1.0-1.3 declare install_extension with five arguments. This server's library is 1.5.3,
    # whose install_extension reads a sixth: it cannot run the 1.3 API, so only the recognition is
    # tried for real here (test_extension.py checks the calls against both shapes).
    dsn = tle_db("1.3.4")
    assert _one(dsn, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tle'") == "1.3.4"
    assert _one(dsn, "SELECT array_agg(oid::regprocedure::text) FROM pg_proc WHERE proname = 'install_extension'") == [
        "pgtle.install_extension(text,text,text,text,text[])"
    ]
    with psycopg.connect(dsn, autocommit=True) as c:
        assert pyidsql.install.tle_available(c)
