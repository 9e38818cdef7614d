"""Channels 4 and 5 and the upgrade chain: CREATE EXTENSION, pg_tle, frozen releases, pg_dump.

The drift tests compare catalogs (functions with their definitions and ACLs, tables, columns,
constraints, indexes, sequences, triggers, comments, grants): a fresh install of the head must
equal an install of the first release upgraded to the head, through every channel.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from test_install import _psql, _run_psql, _status
from test_state_versions import SCHEMA as MOVES_SCHEMA
from test_state_versions import _data as moves_data
from test_state_versions import _random_moves_history as random_moves_history
from test_state_versions import _session as moves_session

import pyidsql
import pyidsql.alembic
import pyidsql.install
from pyidsql import __version__, _release, _resources, errors
from pyidsql.testing import new_database
from pyidsql.tooling.cli import main

FIRST = _release.versions()[0]


def _acl(acl: str, kind: str, owner: str) -> str:
    """Return SQL for an ACL as the sorted privileges it grants (a default ACL spelled out)."""
    return f"(SELECT array_agg(a::text ORDER BY a::text) FROM unnest(coalesce({acl}, acldefault({kind}, {owner}))) a)"


_RELATION_KIND = "CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::pg_catalog.\"char\""

SNAPSHOT = {
    "schema": f"""
        SELECT pg_get_userbyid(nspowner), {_acl("nspacl", "'n'", "nspowner")}, obj_description(oid, 'pg_namespace')
          FROM pg_namespace WHERE nspname = 'idsql'""",
    "functions": f"""
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), {_acl("p.proacl", "'f'", "p.proowner")},
               obj_description(p.oid, 'pg_proc')
          FROM pg_proc p WHERE p.pronamespace = 'idsql'::regnamespace ORDER BY 1""",
    "relations": f"""
        SELECT c.relname, c.relkind::text,
               {_acl("c.relacl", _RELATION_KIND, "c.relowner")},
               obj_description(c.oid, 'pg_class')
          FROM pg_class c WHERE c.relnamespace = 'idsql'::regnamespace ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid),
               (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(a.attacl) AS x),
               col_description(c.oid, a.attnum)
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (c.oid, a.attnum)
         WHERE c.relnamespace = 'idsql'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'idsql'::regnamespace ORDER BY 1, 2""",
    "indexes": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = 'idsql'::regnamespace ORDER BY 1""",
    "sequences": """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
               s.seqcache, s.seqcycle
          FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
         WHERE c.relnamespace = 'idsql'::regnamespace ORDER BY 1""",
    "triggers": """
        SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger')
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'idsql'::regnamespace AND NOT t.tgisinternal ORDER BY 1, 2""",
    "installation": "SELECT version FROM idsql.installation",
    "extension": """
        SELECT e.extversion,
               (SELECT array_agg(x::regclass::text ORDER BY x::regclass::text) FROM unnest(e.extconfig) AS x),
               (SELECT array_agg(x ORDER BY x) FROM unnest(e.extcondition) AS x),
               (SELECT array_agg(pg_describe_object(d.classid, d.objid, d.objsubid)
                                 ORDER BY pg_describe_object(d.classid, d.objid, d.objsubid))
                  FROM pg_depend d WHERE d.refobjid = e.oid AND d.deptype = 'e')
          FROM pg_extension e WHERE e.extname = 'idsql'""",
}


def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Return what the drift tests compare, for the idsql objects of a database."""
    with psycopg.connect(dsn, autocommit=True) as c:
        return {name: c.execute(query).fetchall() for name, query in SNAPSHOT.items()}  # type: ignore[arg-type]


def assert_same(left: dict[str, list[tuple[Any, ...]]], right: dict[str, list[tuple[Any, ...]]]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        assert left[name] == right[name], f"catalogs differ in {name}"


def _execute(dsn: str, script: str) -> None:
    with psycopg.connect(dsn) as c:
        c.execute(script.encode())


@pytest.fixture
def databases(pg_server: Any) -> Iterator[Callable[[], str]]:
    """Return a factory of fresh empty databases, dropped after the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(new_database(pg_server))


@pytest.fixture(scope="module")
def head_snapshot(pg_server: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The catalog of a fresh install of the head by the CLI: what every path must arrive at."""
    with new_database(pg_server) as dsn:
        assert main(["install", "--dsn", dsn]) == 0
        return snapshot(dsn)


# --- the release files ------------------------------------------------------------------------


def test_release_files_are_current_and_frozen_files_unchanged() -> None:
    # Fails when sql/ changed without make release-scripts, or a released script was edited.
    assert _release.problems() == []


def test_the_heads_scripts_are_built_from_sql(tmp_path: Path) -> None:
    """A change of sql/ is written once: the head's scripts are built from it, never committed."""
    source = _resources.SQL_DIR / "core" / "schema.sql"
    original = source.read_text()
    try:
        source.write_text(original + "-- changed once, in its source\n")
        assert "-- changed once, in its source" in _release.install_script()
        assert "-- changed once, in its source" in _release.step_script(_release.versions()[-2], __version__)
    finally:
        source.write_text(original)
    assert not _release.install_file(__version__).exists()
    assert not any(_release.step_file(v, __version__).exists() for v in _release.versions())
    written = _release.build(tmp_path)
    assert [p.read_text() for p in written] == list(_release.head_files().values())


def test_release_check_fails_when_a_frozen_file_changed() -> None:
    frozen_file = _release.install_file(FIRST)
    original = frozen_file.read_text()
    try:
        frozen_file.write_text(original.replace("idsql", "idsql ", 1))
        assert any(f"{frozen_file.name} was edited" in p for p in _release.problems())
    finally:
        frozen_file.write_text(original)
    assert _release.problems() == []


def test_release_chain_runs_from_the_first_release_to_the_head() -> None:
    chain = _release.versions()
    assert chain[0] == "0.1.0" and chain[-1] == __version__ and len(chain) >= 2
    assert _release.steps("0.1.0") == list(pairwise(chain))
    assert set(_release.frozen()) >= {"idsql--0.1.0.sql"}
    with pytest.raises(ValueError, match=r"unknown idsql version 9\.9\.9"):
        _release.steps("9.9.9")


def test_extension_scripts_are_the_release_scripts() -> None:
    files = _release.extension_files()
    control = files["idsql.control"]
    assert f"default_version = '{__version__}'" in control
    assert "schema = idsql" in control and "superuser = false" in control
    for version in _release.versions():
        text = files[f"idsql--{version}.sql"]
        assert _release.CREATE_SCHEMA not in text
        body = _release.install_script(version).replace(_release.CREATE_SCHEMA, "")
        assert body.strip().splitlines()[-1] in text
        assert "pg_extension_config_dump" in text


# --- drift: fresh head == first release + upgrades, per channel ---------------------------------


def test_drift_psql_script(
    pg_server: Any, databases: Any, tmp_path: Path, head_snapshot: dict[str, list[tuple[Any, ...]]]
) -> None:
    psql = _psql(pg_server)
    fresh, upgraded = databases(), databases()
    script = tmp_path / "head.sql"
    script.write_text(pyidsql.install.psql_script())
    assert _run_psql(psql, fresh, script).returncode == 0

    first = tmp_path / "first.sql"
    first.write_text("\\set ON_ERROR_STOP on\nBEGIN;\n" + _release.install_script(FIRST) + "COMMIT;\n")
    result = _run_psql(psql, upgraded, first)
    assert result.returncode == 0, result.stderr
    assert _status(upgraded).version == FIRST
    upgrade = tmp_path / "upgrade.sql"
    upgrade.write_text(pyidsql.install.psql_script(FIRST))
    result = _run_psql(psql, upgraded, upgrade)
    assert result.returncode == 0, result.stderr

    assert_same(snapshot(fresh), head_snapshot)
    assert_same(snapshot(upgraded), head_snapshot)
    # Run again, the upgrade script refuses: it is for the first release only.
    again = _run_psql(psql, upgraded, upgrade)
    assert again.returncode == 3
    assert f"idsql {__version__} is installed, this script expects {FIRST}" in again.stderr


def test_drift_cli_upgrade(databases: Any, head_snapshot: dict[str, list[tuple[Any, ...]]]) -> None:
    dsn = databases()
    _execute(dsn, _release.install_script(FIRST))
    with psycopg.connect(dsn) as c:
        assert pyidsql.install.install(c) == __version__
    assert _status(dsn).version == __version__
    assert_same(snapshot(dsn), head_snapshot)


def test_drift_alembic(databases: Any, head_snapshot: dict[str, list[tuple[Any, ...]]]) -> None:
    straight, stepwise = databases(), databases()
    pyidsql.alembic.upgrade(straight)
    pyidsql.alembic.upgrade(stepwise, "idsql_0001")
    assert _status(stepwise).version == FIRST
    pyidsql.alembic.upgrade(stepwise)
    for dsn in (straight, stepwise):
        assert _status(dsn).channel == "alembic"
        assert_same(snapshot(dsn), head_snapshot)

    # The downgrade of each step gives back the catalog of the release before it: from the head
    # to every earlier revision (idsql_0001 installs the first release, each next one steps up).
    for number, version in enumerate(_release.versions()[:-1], 1):
        downgraded, fresh = databases(), databases()
        pyidsql.alembic.upgrade(downgraded)
        pyidsql.alembic.downgrade(downgraded, f"idsql_{number:04d}")
        assert _status(downgraded).version == version
        _execute(fresh, _release.install_script(version))
        assert_same(snapshot(downgraded), snapshot(fresh))


TRACKED = """
CREATE TABLE chat_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE entity (entity_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session,
                     name text, state_version bigint NOT NULL DEFAULT 1);
SELECT idsql.enable_state_version('chat_session', history => true);
SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true);
CREATE TABLE entity_note (note_id text PRIMARY KEY, entity_id text NOT NULL REFERENCES entity, body text);
SELECT idsql.enable_state_version('entity_note', version_column => NULL, parent => 'entity');
INSERT INTO chat_session VALUES ('S');
INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'v1');
INSERT INTO entity_note VALUES ('n', 'A', 'note');
"""


def _change_entity(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("UPDATE entity SET name = %s WHERE entity_id = 'A'", (name,))
        c.execute("UPDATE entity SET name = name WHERE entity_id = 'A'")  # a no-op counts for nothing
        c.execute("UPDATE entity_note SET body = body")  # also on a table without a version column


def _entity_history(dsn: str) -> list[tuple[int, int, str]]:
    with psycopg.connect(dsn, autocommit=True) as c:
        return [
            (h.state_version, h.root_version, h.row_data["name"])
            for h in pyidsql.row_history(c, "entity", {"entity_id": "A"})
        ]


@pytest.mark.parametrize("channel", ["script", "alembic", "extension"])
def test_upgrade_carries_tracked_tables_across(channel: str, request: pytest.FixtureRequest, databases: Any) -> None:
    # Tables enabled under the first release keep counting and keeping history after the upgrade
    # (their triggers are generated anew for the head), and after an Alembic downgrade again.
    dsn = databases()
    if channel == "extension":
        request.getfixturevalue("extension_dir")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql.SQL("CREATE EXTENSION idsql VERSION {}").format(sql.Literal(FIRST)))
    elif channel == "alembic":
        pyidsql.alembic.upgrade(dsn, "idsql_0001")
    else:
        _execute(dsn, _release.install_script(FIRST))
    _execute(dsn, TRACKED)
    _change_entity(dsn, "v2")

    if channel == "extension":
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("ALTER EXTENSION idsql UPDATE")
            pyidsql.install.install(c, channel="extension")
    elif channel == "alembic":
        pyidsql.alembic.upgrade(dsn)
    else:
        with psycopg.connect(dsn, autocommit=True) as c:
            pyidsql.install.install(c)
    assert _status(dsn).version == __version__
    _change_entity(dsn, "v3")
    assert _entity_history(dsn) == [(1, 1, "v1"), (2, 2, "v2"), (3, 3, "v3")]

    if channel == "alembic":
        pyidsql.alembic.downgrade(dsn, "idsql_0001")
        assert _status(dsn).version == FIRST
        _change_entity(dsn, "v4")
        assert _entity_history(dsn) == [(1, 1, "v1"), (2, 2, "v2"), (3, 3, "v3"), (4, 4, "v4")]


def _install_previous(channel: str, dsn: str, request: pytest.FixtureRequest) -> str:
    """Install the release before the head through *channel*; return its version."""
    chain = _release.versions()
    previous = chain[-2]
    if channel == "extension":
        request.getfixturevalue("extension_dir")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql.SQL("CREATE EXTENSION idsql VERSION {}").format(sql.Literal(previous)))
    elif channel == "alembic":
        pyidsql.alembic.upgrade(dsn, f"idsql_{len(chain) - 1:04d}")
    else:
        _execute(dsn, _release.install_script(previous))
    assert _status(dsn).version == previous
    return previous


def _upgrade(channel: str, dsn: str, request: pytest.FixtureRequest, previous: str) -> None:
    if channel == "alembic":
        pyidsql.alembic.upgrade(dsn)
        return
    if channel == "psql":
        script = request.getfixturevalue("tmp_path") / "upgrade.sql"
        script.write_text(pyidsql.install.psql_script(previous))
        result = _run_psql(_psql(request.getfixturevalue("pg_server")), dsn, script)
        assert result.returncode == 0, result.stderr
        assert _status(dsn).version == __version__
        return
    with psycopg.connect(dsn, autocommit=True) as c:
        if channel == "extension":
            c.execute("ALTER EXTENSION idsql UPDATE")
            pyidsql.install.install(c, channel="extension")
        else:
            pyidsql.install.install(c)
    assert _status(dsn).version == __version__


def _history_reads(dsn: str, numbers: list[int]) -> dict[Any, Any]:
    """Every read of the history of the random-moves workload, without what differs between runs."""
    out: dict[Any, Any] = {}
    with psycopg.connect(dsn, autocommit=True) as c:
        for session in "ST":
            key = {"session_id": session}
            top = moves_session(c, session)
            out[session] = [
                [moves_data(e) for e in pyidsql.children_as_of(c, "entity", key, v)] for v in range(1, top + 1)
            ]
            out[session, "changes"] = [
                sorted(
                    (str(d.table_name), json.dumps(d.key), d.change, moves_data(d.old_data), moves_data(d.new_data))
                    for d in pyidsql.changes_between(c, "chat_session", key, v, v + 1)
                )
                for v in range(1, top)
            ]
        for table, column, prefix in (("entity", "entity_id", "e"), ("entity_attribute", "attribute_id", "a")):
            for n in numbers:
                history = pyidsql.row_history(c, table, {column: f"{prefix}{n}"})
                out[table, n] = [
                    (h.state_version, h.root_version, h.operation, moves_data(h.row_data)) for h in history
                ]
    return out


@pytest.mark.parametrize("channel", ["script", "psql", "alembic", "extension"])
def test_upgrade_from_the_previous_release_reads_its_history_as_a_fresh_install_does(
    channel: str, request: pytest.FixtureRequest, databases: Any
) -> None:
    # The same random history (entities and attributes moving between two sessions), written half
    # under the previous release and half after the upgrade, reads back as it does on a fresh
    # install of the head that wrote all of it: every version of both sessions, every diff between
    # two versions in a row, every row's history. pg_tle's channel: tests/engines/test_pg_tle.py.
    upgraded, fresh = databases(), databases()
    previous = _install_previous(channel, upgraded, request)
    with psycopg.connect(fresh, autocommit=True) as c:
        pyidsql.install.install(c)
    for dsn in (upgraded, fresh):
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(MOVES_SCHEMA)
            random_moves_history(c, random.Random(22))
    _upgrade(channel, upgraded, request, previous)
    for dsn in (upgraded, fresh):
        with psycopg.connect(dsn, autocommit=True) as c:
            random_moves_history(c, random.Random(23), first=1000)
    numbers = [*range(1, 160), *range(1000, 1160)]
    reads = _history_reads(fresh, numbers)
    assert sum(1 for k, v in reads.items() if k[0] in ("entity", "entity_attribute") and v) > 40
    assert _history_reads(upgraded, numbers) == reads


@pytest.mark.parametrize("channel", ["script", "extension"])
def test_upgrade_keeps_the_order_of_history_written_by_sessions_with_cached_ids(
    channel: str, pg_server: Any, databases: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Under 0.1.0 each session took 1,000 ids of row_version at a time: a row written by session a,
    # then b, then a again has ids out of the order of writing. The upgrade keeps those in 0.1.0's
    # order (by version), and orders what comes after by id, after them; a dump and restore keeps
    # where the old entries end.
    if pg_server.bindir is None or not (pg_server.bindir / "pg_dump").is_file():
        pytest.skip("no pg_dump of the server's major version here")
    dsn, restored = databases(), databases()
    if channel == "extension":
        request.getfixturevalue("extension_dir")
        _execute(dsn, f"CREATE EXTENSION idsql VERSION '{FIRST}'")
    else:
        _execute(dsn, _release.install_script(FIRST))
    _execute(dsn, TRACKED)
    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
        for conn, name in ((a, "v2"), (b, "v3"), (a, "v4")):
            conn.execute("UPDATE entity SET name = %s WHERE entity_id = 'A'", (name,))
        rows = a.execute(
            "SELECT id, row_data ->> 'name' FROM idsql.row_version WHERE tbl = 'entity'::regclass ORDER BY id"
        ).fetchall()
        assert [name for _, name in rows] == ["v1", "v2", "v4", "v3"]  # a's v4 took an id below b's v3
        ids = [i for i, _ in rows]
        if channel == "extension":
            a.execute("ALTER EXTENSION idsql UPDATE")
        else:
            pyidsql.install.install(a)
        a.execute("UPDATE entity SET name = 'v5' WHERE entity_id = 'A'")
    history = [(1, 1, "v1"), (2, 2, "v2"), (3, 3, "v3"), (4, 4, "v4"), (5, 5, "v5")]
    assert _entity_history(dsn) == history
    with psycopg.connect(dsn) as c:
        first = c.execute("SELECT cached_below FROM idsql.history_order").fetchall()
        assert len(first) == 1 and first[0][0] > max(ids)

    dump = tmp_path / "db.dump"
    subprocess.run([str(pg_server.bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", dsn], check=True)
    subprocess.run([str(pg_server.bindir / "pg_restore"), "--exit-on-error", "-d", restored, str(dump)], check=True)
    assert _entity_history(restored) == history
    with psycopg.connect(restored) as c:
        assert c.execute("SELECT cached_below FROM idsql.history_order").fetchall() == first


def test_drift_create_extension(
    extension_dir: Path, databases: Any, head_snapshot: dict[str, list[tuple[Any, ...]]]
) -> None:
    fresh, upgraded = databases(), databases()
    with psycopg.connect(fresh, autocommit=True) as c:
        c.execute("CREATE EXTENSION idsql")
    with psycopg.connect(upgraded, autocommit=True) as c:
        c.execute(sql.SQL("CREATE EXTENSION idsql VERSION {}").format(sql.Literal(FIRST)))
        assert c.execute("SELECT version FROM idsql.installation").fetchone() == (FIRST,)
        c.execute("ALTER EXTENSION idsql UPDATE")
    left, right = snapshot(fresh), snapshot(upgraded)
    assert_same(left, right)
    assert left["extension"][0][0] == __version__
    # Apart from belonging to the extension, the objects are those of a plain install.
    del left["extension"]
    assert_same(left, {k: v for k, v in head_snapshot.items() if k != "extension"})


def test_extension_registers_every_table_and_sequence_that_holds_state(extension_dir: Path, databases: Any) -> None:
    dsn = databases()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION idsql")
        assert _status(dsn).channel == "extension"
        members = {
            r[0]
            for r in c.execute(
                "SELECT c.oid::regclass::text FROM pg_depend d JOIN pg_class c ON c.oid = d.objid"
                " WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'idsql') AND d.deptype = 'e'"
                " AND d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'S') AND c.relpersistence <> 'u'"
            )
        }
        config = {
            r[0]
            for r in c.execute(
                "SELECT x::regclass::text FROM pg_extension, unnest(extconfig) AS x WHERE extname = 'idsql'"
            )
        }
    assert {
        "idsql.prefix_counter",
        "idsql.table_counter",
        "idsql.id_mapping",
        "idsql.sync_queue",
        "idsql.row_version",
        "idsql.temp_id_seq",
        "idsql.row_version_id_seq",
    } <= config
    assert config == members - {"idsql.installation"}
    # Marks of rows written unchanged mean nothing outside their transaction: never dumped.
    assert "idsql.state_version_noop" not in config


def test_create_extension_as_a_non_superuser(extension_dir: Path, pg_server: Any, databases: Any) -> None:
    dsn = databases()
    owner = "idsql_t_owner"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))
        c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
        c.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(c.info.dbname), sql.Identifier(owner))
        )
    try:
        with psycopg.connect(dsn, user=owner, autocommit=True) as c:
            c.execute("CREATE EXTENSION idsql")
            assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
            owners = c.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'idsql'::regnamespace"
            ).fetchall()
            assert owners == [(owner,)]
            c.execute("DROP EXTENSION idsql CASCADE")
            c.execute("DROP SCHEMA IF EXISTS idsql CASCADE")
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
            c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))


def test_channels_refuse_each_others_installs(extension_dir: Path, databases: Any) -> None:
    plain, ext = databases(), databases()
    assert main(["install", "--dsn", plain]) == 0
    with psycopg.connect(plain, autocommit=True) as c, pytest.raises(psycopg.Error) as info:
        c.execute("CREATE EXTENSION idsql")
    assert info.value.sqlstate == "ID902"
    assert info.value.diag.message_hint is not None and "uninstall" in info.value.diag.message_hint

    with psycopg.connect(ext, autocommit=True) as c:
        c.execute(sql.SQL("CREATE EXTENSION idsql VERSION {}").format(sql.Literal(FIRST)))
        # The plain scripts' guard refuses to run over it.
        with pytest.raises(errors.ChannelMismatch), errors.translate_errors(), c.transaction():
            c.execute(pyidsql.install._guard(None).encode())
        # pyidsql install upgrades an extension with ALTER EXTENSION.
        assert pyidsql.install.install(c) == __version__
        assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'idsql'").fetchone() == (__version__,)
        pyidsql.install.uninstall(c)
        assert c.execute("SELECT count(*) FROM pg_extension WHERE extname = 'idsql'").fetchone() == (0,)


def test_install_refuses_a_newer_version(dsn: str) -> None:
    with psycopg.connect(dsn) as c:
        c.execute("UPDATE idsql.installation SET version = '99.0.0'")
        with pytest.raises(errors.VersionMismatch) as info:
            pyidsql.install.install(c)
    assert "idsql 99.0.0 is installed" in str(info.value)
    assert info.value.hint == "Use pyidsql 99.0.0 or later, which knows that version."


def test_cli_sql_from_an_unknown_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--from", "0.0.1"]) == 2
    assert "unknown idsql version 0.0.1" in capsys.readouterr().err


# --- pg_dump / pg_restore ----------------------------------------------------------------------

STATE = """
CREATE TABLE chat_history (id bigint PRIMARY KEY, note text);
SELECT idsql.initialize_table('chat_history');
SELECT idsql.next_id('chat_history') FROM generate_series(1, 5);
SELECT idsql.generate_id('CUS') FROM generate_series(1, 3);
SELECT idsql.configure_prefix('EVT', mode => 'fast');
SELECT idsql.generate_id('EVT') FROM generate_series(1, 4);
CREATE TABLE project (id text PRIMARY KEY, name text NOT NULL);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
INSERT INTO project VALUES (idsql.new_temp_id('project'), 'one'), (idsql.new_temp_id('project'), 'two');
SELECT idsql.enqueue_sync('project', id, 'create', '{}') FROM project;
SELECT idsql.assign_server_id('project', (SELECT min(id) FROM project));
CREATE TABLE chat_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, note text);
SELECT idsql.enable_state_version('chat_session', history => true);
INSERT INTO chat_session (session_id) VALUES ('S');
"""
# Each in a transaction of its own: a version counts once per transaction.
UPDATES = [
    "UPDATE chat_session SET note = 'v2' WHERE session_id = 'S'",
    "UPDATE chat_session SET note = 'v3' WHERE session_id = 'S'",
]

KEPT = {
    "prefix_counter": "SELECT prefix, mode, last_value FROM idsql.prefix_counter ORDER BY 1",
    "table_counter": "SELECT table_name::text, seq::text, pg_sequence_last_value(seq) FROM idsql.table_counter",
    "id_mapping": "SELECT tbl::text, temp_id, permanent_id FROM idsql.id_mapping ORDER BY 2",
    "sync_queue": "SELECT id, model_type::text, model_id, id_negotiation_status FROM idsql.sync_queue ORDER BY 1",
    "temp_id": "SELECT tbl::text, temp_id FROM idsql.temp_id ORDER BY 2",
    "row_version": "SELECT id, tbl::text, key, state_version, operation, row_data FROM idsql.row_version ORDER BY 1",
    "id_strategy": "SELECT tbl::text, strategy, generator FROM idsql.id_strategy",
    "state_version_table": "SELECT tbl::text, row_function FROM idsql.state_version_table",
    "rows": "SELECT session_id, state_version, note FROM chat_session",
}


@pytest.mark.parametrize("channel", ["extension", "script"])
def test_dump_restore_keeps_counters_history_mappings_and_queues(
    channel: str, pg_server: Any, databases: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if pg_server.bindir is None or not (pg_server.bindir / "pg_dump").is_file():
        pytest.skip("no pg_dump of the server's major version here")
    source, target = databases(), databases()
    with psycopg.connect(source, autocommit=True) as c:
        if channel == "extension":
            request.getfixturevalue("extension_dir")
            c.execute("CREATE EXTENSION idsql")
        else:
            pyidsql.install.install(c)
        c.execute(STATE.encode())
        for update in UPDATES:
            c.execute(update.encode())
        before = {name: c.execute(query).fetchall() for name, query in KEPT.items()}  # type: ignore[arg-type]
        issued = {
            "CUS": pyidsql.current_id(c, "CUS"),
            "EVT": pyidsql.current_id(c, "EVT"),
            "table": c.execute("SELECT pg_sequence_last_value(seq) FROM idsql.table_counter").fetchone(),
        }
    assert before["row_version"] and before["id_mapping"] and before["sync_queue"]

    dump = tmp_path / "db.dump"
    subprocess.run([str(pg_server.bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", source], check=True)
    result = subprocess.run(
        [str(pg_server.bindir / "pg_restore"), "--exit-on-error", "-d", target, str(dump)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr

    with psycopg.connect(target, autocommit=True) as c:
        after = {name: c.execute(query).fetchall() for name, query in KEPT.items()}  # type: ignore[arg-type]
        assert after == before
        if channel == "extension":
            assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'idsql'").fetchone() == (__version__,)
        # The next IDs continue where the source stopped, never repeat.
        assert pyidsql.generate_id(c, "CUS") == pyidsql.increment_id(c, issued["CUS"])
        assert pyidsql.generate_id(c, "EVT") > issued["EVT"]
        assert issued["table"] == (5,)
        assert pyidsql.next_id(c, "chat_history") == 6
        assert pyidsql.new_temp_id(c, "project") not in {r[1] for r in before["temp_id"]}
        # The per-table trigger function named by the old OID still counts versions.
        version = before["rows"][0][1]
        c.execute("UPDATE chat_session SET note = 'next' WHERE session_id = 'S'")
        assert c.execute("SELECT state_version FROM chat_session").fetchone() == (version + 1,)
        # A replaced temporary ID still resolves through the restored mapping.
        assert pyidsql.resolve_id(c, "project", before["id_mapping"][0][1]) == before["id_mapping"][0][2]


def test_dump_restore_state_version_history_continues(pg_server: Any, databases: Any, tmp_path: Path) -> None:
    if pg_server.bindir is None or not (pg_server.bindir / "pg_dump").is_file():
        pytest.skip("no pg_dump of the server's major version here")
    source, target = databases(), databases()
    with psycopg.connect(source, autocommit=True) as c:
        pyidsql.install.install(c)
        c.execute(STATE.encode())
        c.execute(
            "CREATE TABLE entity (entity_id text PRIMARY KEY, session_id text REFERENCES chat_session,"
            " state_version bigint NOT NULL DEFAULT 1, name text)"
        )
        c.execute("SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true)")
        c.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'a1')")  # session 2
        for update in UPDATES:  # sessions 3 and 4
            c.execute(update.encode())
    dump = tmp_path / "db.dump"
    subprocess.run([str(pg_server.bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", source], check=True)
    subprocess.run([str(pg_server.bindir / "pg_restore"), "--exit-on-error", "-d", target, str(dump)], check=True)
    with psycopg.connect(target, autocommit=True) as c:
        # The restored tables have new OIDs; the generated triggers name them by TG_RELID.
        c.execute("UPDATE chat_session SET note = 'next' WHERE session_id = 'S'")
        c.execute("UPDATE entity SET name = 'a2' WHERE entity_id = 'A'")
        history = pyidsql.row_history(c, "chat_session", {"session_id": "S"})
        assert [h.state_version for h in history] == [1, 2, 3, 4, 5, 6]
        entity = pyidsql.row_history(c, "entity", {"entity_id": "A"})
        assert [(h.state_version, h.root_version, h.row_data["name"]) for h in entity] == [(1, 2, "a1"), (2, 6, "a2")]
        as_of = pyidsql.children_as_of(c, "entity", {"session_id": "S"}, 5)
        assert [row["name"] for row in as_of] == ["a1"]


# --- pg_tle ------------------------------------------------------------------------------------

# A recorder of the calls idsql makes to pg_tle's API, in the two shapes it has had:
# install_extension with five arguments (pg_tle 1.0-1.3) and with six (1.4 and later, schema).
# It checks the call sequence only; tests/engines/test_pg_tle.py runs the channel on a real pg_tle.
PGTLE_RECORDER = """
CREATE SCHEMA pgtle;
CREATE TABLE pgtle.calls (n serial, fn text, name text, v1 text, v2 text, ext text);
CREATE FUNCTION pgtle.install_extension(name text, version text, description text, ext text,
                                        requires text[] DEFAULT NULL{schema}) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO pgtle.calls (fn, name, v1, ext) VALUES ('install_extension', name, version, ext)
          RETURNING true $$;
CREATE FUNCTION pgtle.install_update_path(name text, fromvers text, tovers text, ext text) RETURNS boolean
    LANGUAGE sql AS $$ INSERT INTO pgtle.calls (fn, name, v1, v2, ext)
                       VALUES ('install_update_path', name, fromvers, tovers, ext) RETURNING true $$;
CREATE FUNCTION pgtle.set_default_version(name text, version text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO pgtle.calls (fn, name, v1) VALUES ('set_default_version', name, version) RETURNING true $$;
CREATE FUNCTION pgtle.available_extension_versions()
    RETURNS TABLE (name name, version text) LANGUAGE sql
    AS $$ SELECT c.name::name, c.v1 FROM pgtle.calls c WHERE c.fn = 'install_extension' $$;
CREATE FUNCTION pgtle.extension_update_paths(name name)
    RETURNS TABLE (source text, target text, path text) LANGUAGE sql
    AS $$ SELECT c.v1, c.v2, c.v1 || '--' || c.v2 FROM pgtle.calls c
           WHERE c.fn = 'install_update_path' AND c.name = $1 $$;
"""


@pytest.mark.parametrize("schema", ["", ", schema text DEFAULT NULL"], ids=["pg_tle-1.0-1.3", "pg_tle-1.4+"])
def test_install_tle_makes_the_calls_of_either_api(
    schema: str, extension_dir: Path, databases: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = databases()
    assert main(["install", "--tle", "--dsn", dsn]) == 1
    assert "pg_tle is not available" in capsys.readouterr().err

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(PGTLE_RECORDER.replace("{schema}", schema))
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == f"idsql {__version__} installed through pg_tle\n"
    chain = _release.versions()
    with psycopg.connect(dsn, autocommit=True) as c:
        calls = c.execute("SELECT fn, name, v1, v2, ext FROM pgtle.calls ORDER BY n").fetchall()
        expected: list[tuple[Any, ...]] = [
            (
                "install_extension",
                "idsql",
                chain[0],
                None,
                _release.extension_script(_release.install_script(chain[0]), install=True),
            )
        ]
        expected += [
            ("install_update_path", "idsql", a, b, _release.extension_script(_release.step_script(a, b), install=False))
            for a, b in pairwise(chain)
        ]
        expected.append(("set_default_version", "idsql", __version__, None, None))
        assert calls == expected
        # On this server CREATE EXTENSION found the same scripts as files; the channel is recorded.
        assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'idsql'").fetchone() == (__version__,)
        assert _status(dsn).channel == "pg_tle"

    # Again: nothing registered twice, the extension updated in place.
    assert main(["install", "--tle", "--dsn", dsn]) == 0
    with psycopg.connect(dsn, autocommit=True) as c:
        fns = [r[0] for r in c.execute("SELECT fn FROM pgtle.calls ORDER BY n")]
    assert fns.count("install_extension") == 1
    assert fns.count("install_update_path") == len(chain) - 1
