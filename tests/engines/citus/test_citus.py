"""Every capability on a real Citus cluster: distributed, reference and local tables.

The decisions these tests hold (docs/citus.md has the matrix):

- idsql's state lives on the coordinator. On the workers every function that reads or writes it
  refuses with ID903 and names the coordinator; the immutable ones (format, parse, validate) work.
  So no ID is issued twice and there is never a second counter.
- A DEFAULT calling idsql on a distributed or reference table is evaluated by the node that takes
  the INSERT: through the coordinator it issues from the one counter, through a worker it refuses.
- State versions refuse tables Citus manages (ID308); ID negotiation refuses a temporary ID held
  by one (ID415), before anything changes. Local tables of the coordinator behave as on one server.
- Sequence repair covers distributed and reference tables from the coordinator, and keeps the
  coordinator's sequence below the range the workers draw from.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

import pyidsql
from pyidsql import _release, errors
from pyidsql.tooling.pgserver import Cluster

WORKER_RANGE = 1 << 48  # where the first worker's range of a bigint sequence starts


@pytest.fixture
def coord(citus: Cluster) -> Iterator[psycopg.Connection[Any]]:
    with citus.connect(autocommit=True) as c:
        yield c


@pytest.fixture
def workers(citus: Cluster) -> Iterator[list[psycopg.Connection[Any]]]:
    conns = [citus.connect(w, autocommit=True) for w in citus.workers]
    yield conns
    for c in conns:
        c.close()


@pytest.fixture
def table(coord: psycopg.Connection[Any], request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """Return a maker of table names unique to the test; the tables are dropped afterwards."""
    made: list[str] = []

    def name(stem: str) -> str:
        made.append(re.sub(r"\W+", "_", f"{stem}_{request.node.name[-20:]}").strip("_").lower())
        return made[-1]

    yield name
    for t in reversed(made):
        coord.execute(f"DROP TABLE IF EXISTS {t} CASCADE")


def coordinator_address(citus: Cluster) -> str:
    return f"{citus.coordinator.host}:{citus.coordinator.port}"


# --- one counter: the workers refuse, naming the coordinator ---------------------------------

WORKER_CALLS: dict[str, Callable[[psycopg.Connection[Any]], Any]] = {
    "generate_id": lambda c: pyidsql.generate_id(c, "CTW"),
    "bulk_generate_ids": lambda c: pyidsql.bulk_generate_ids(c, "CTW", 3),
    "current_id": lambda c: pyidsql.current_id(c, "CTW"),
    "next_id": lambda c: pyidsql.next_id(c, "citus_counted"),
    "insert_with_retry": lambda c: pyidsql.insert_with_retry(c, "citus_counted", {"v": "w"}),
    "fix_all_sequences": lambda c: pyidsql.fix_all_sequences(c),
    "sequence_report": lambda c: pyidsql.sequence_report(c),
    "new_temp_id": lambda c: pyidsql.new_temp_id(c, "citus_counted"),
    "enable_state_version": lambda c: pyidsql.enable_state_version(c, "citus_counted"),
}


@pytest.mark.parametrize("call", sorted(WORKER_CALLS))
def test_worker_refuses_with_the_coordinator_named(
    citus: Cluster, coord: psycopg.Connection[Any], workers: list[psycopg.Connection[Any]], call: str
) -> None:
    coord.execute("CREATE TABLE IF NOT EXISTS citus_counted (id bigint PRIMARY KEY, v text)")
    coord.execute(  # a reference table: its name resolves on the workers too
        "SELECT create_reference_table('citus_counted') WHERE NOT EXISTS"
        " (SELECT FROM pg_dist_partition WHERE logicalrelid = 'citus_counted'::regclass)"
    )
    pyidsql.generate_id(coord, "CTW")
    before = pyidsql.current_id(coord, "CTW")
    for worker in workers:
        with pytest.raises(errors.NotOnCoordinator) as info:
            WORKER_CALLS[call](worker)
        assert info.value.sqlstate == "ID903"
        assert str(info.value).startswith(f"idsql.{call}")  # or the SQL function the wrapper calls
        assert "runs on the Citus coordinator only" in str(info.value)
        assert coordinator_address(citus) in (info.value.detail or "")
        assert "coordinator" in (info.value.hint or "")
    assert pyidsql.current_id(coord, "CTW") == before


def test_worker_keeps_the_immutable_functions(workers: list[psycopg.Connection[Any]]) -> None:
    for worker in workers:
        assert pyidsql.format_id(worker, "CUS", 10000) == "CUS-AAB0001"
        assert pyidsql.is_valid_id(worker, "CUS-AAA0001")
        assert worker.execute("SELECT (idsql.parse_id('CUS-ZZZ9999')).ordinal").fetchone() == (175_742_424,)


def test_worker_never_has_idsql_tables(coord: psycopg.Connection[Any], workers: list[psycopg.Connection[Any]]) -> None:
    assert coord.execute("SELECT to_regclass('idsql.prefix_counter') IS NOT NULL").fetchone() == (True,)
    for worker in workers:
        assert worker.execute("SELECT to_regclass('idsql.prefix_counter')").fetchone() == (None,)


def test_install_again_keeps_the_workers_refusing(citus: Cluster, workers: list[psycopg.Connection[Any]]) -> None:
    """A second install (or an upgrade) copies the real functions out again; it re-prepares the workers."""
    out = subprocess.run(
        [sys.executable, "-m", "pyidsql", "install", "--dsn", citus.dsn()], capture_output=True, text=True, check=True
    )
    assert "on the 2 Citus worker(s)" in out.stdout
    for worker in workers:
        with pytest.raises(errors.NotOnCoordinator):
            pyidsql.generate_id(worker, "CTW")


def test_extension_refuses_on_a_citus_cluster(citus: Cluster) -> None:
    with citus.connect(autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS ext_probe")
        c.execute("CREATE DATABASE ext_probe")
    try:
        with psycopg.connect(citus.coordinator.conninfo("ext_probe"), autocommit=True) as c:
            c.execute("CREATE EXTENSION citus")
            with pytest.raises(psycopg.Error) as info:
                c.execute(_release.installer_sql("extension_prologue").encode())
            assert info.value.sqlstate == "ID902"
            assert "Citus" in (info.value.diag.message_primary or "")
            assert "pyidsql install" in (info.value.diag.message_hint or "")
    finally:
        with citus.connect(autocommit=True) as c:
            c.execute("DROP DATABASE ext_probe WITH (FORCE)")


# --- prefixed IDs under 8 clients: gapless stays gapless, fast never repeats -----------------


def _eight_clients(citus: Cluster, work: Callable[[psycopg.Connection[Any], int], list[str]]) -> list[str]:
    out: list[list[str]] = [[] for _ in range(8)]
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with citus.connect() as c:
                out[i] = work(c, i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return [x for part in out for x in part]


def _ordinals(coord: psycopg.Connection[Any], ids: list[str]) -> list[int]:
    rows = coord.execute("SELECT (idsql.parse_id(x)).ordinal FROM unnest(%s::text[]) AS x", (ids,)).fetchall()
    return sorted(r[0] for r in rows)


@pytest.mark.parametrize("kind", ["distributed", "reference"])
def test_gapless_default_under_eight_clients_through_the_coordinator(
    citus: Cluster, coord: psycopg.Connection[Any], table: Callable[[str], str], kind: str
) -> None:
    t = table("orders")
    prefix = "GL" + kind[0].upper()
    coord.execute(f"CREATE TABLE {t} (id text PRIMARY KEY DEFAULT idsql.generate_id('{prefix}'), client int)")
    distribute = "create_distributed_table(%s, 'id')" if kind == "distributed" else "create_reference_table(%s)"
    coord.execute(f"SELECT {distribute}", (t,))
    pyidsql.configure_prefix(coord, prefix, mode="gapless")

    def work(c: psycopg.Connection[Any], i: int) -> list[str]:
        kept = []
        for n in range(25):
            row = c.execute(f"INSERT INTO {t} (client) VALUES (%s) RETURNING id", (i,)).fetchone()
            assert row is not None
            if (n + i) % 5 == 0:
                c.rollback()  # a rolled-back ID is issued again: no gap
            else:
                c.commit()
                kept.append(row[0])
        return kept

    ids = _eight_clients(citus, work)
    assert len(ids) == len(set(ids))
    assert _ordinals(coord, ids) == list(range(1, len(ids) + 1))
    stored = [r[0] for r in coord.execute(f"SELECT id FROM {t}").fetchall()]
    assert sorted(stored) == sorted(ids)


def test_fast_mode_under_eight_clients_never_repeats(citus: Cluster, coord: psycopg.Connection[Any]) -> None:
    pyidsql.configure_prefix(coord, "FST", mode="fast")

    def work(c: psycopg.Connection[Any], i: int) -> list[str]:
        c.autocommit = True
        ids = [pyidsql.generate_id(c, "FST") for _ in range(50)]
        return ids + pyidsql.bulk_generate_ids(c, "FST", 50)

    ids = _eight_clients(citus, work)
    assert len(ids) == 800 == len(set(ids))


def test_insert_through_a_worker_refuses_the_idsql_default(
    coord: psycopg.Connection[Any], workers: list[psycopg.Connection[Any]], table: Callable[[str], str]
) -> None:
    t = table("viaworker")
    coord.execute(f"CREATE TABLE {t} (id text PRIMARY KEY DEFAULT idsql.generate_id('VWK'), v text)")
    coord.execute(f"SELECT create_distributed_table('{t}', 'id')")
    for worker in workers:
        with pytest.raises(errors.NotOnCoordinator), errors.translate_errors():
            worker.execute(f"INSERT INTO {t} (v) VALUES ('w')")
    coord.execute(f"INSERT INTO {t} (v) VALUES ('c')")
    assert coord.execute(f"SELECT id FROM {t}").fetchall() == [("VWK-AAA0001",)]


# --- table IDs --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["distributed", "reference", "local"])
def test_table_ids_on_the_coordinator(coord: psycopg.Connection[Any], table: Callable[[str], str], kind: str) -> None:
    t = table("tid")
    coord.execute(f"CREATE TABLE {t} (id bigint PRIMARY KEY, v text)")
    if kind == "distributed":
        coord.execute(f"SELECT create_distributed_table('{t}', 'id')")
    elif kind == "reference":
        coord.execute(f"SELECT create_reference_table('{t}')")
    coord.execute(f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    assert pyidsql.initialize_table(coord, t) == 3
    assert pyidsql.next_id(coord, t) == 3
    row = pyidsql.insert_with_retry(coord, t, {"v": "c"})
    assert row["id"] == 4
    coord.execute(f"INSERT INTO {t} VALUES (5, 'explicit')")
    assert pyidsql.insert_with_retry(coord, t, {"v": "d"})["id"] == 6
    assert coord.execute(f"SELECT count(*), count(DISTINCT id) FROM {t}").fetchone() == (5, 5)


def test_table_ids_keep_working_when_the_table_is_distributed_later(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    """A session prepared next_id and insert_with_retry for a plain table, which is then distributed."""
    t = table("tidlater")
    coord.execute(f"CREATE TABLE {t} (id bigint PRIMARY KEY, v text)")
    assert pyidsql.next_id(coord, t) == 1
    assert pyidsql.insert_with_retry(coord, t, {"v": "a"})["id"] == 2
    coord.execute(f"SELECT create_distributed_table('{t}', 'id')")
    assert pyidsql.next_id(coord, t) == 3
    coord.execute(f"INSERT INTO {t} VALUES (4, 'explicit')")
    assert pyidsql.insert_with_retry(coord, t, {"v": "b"})["id"] == 5


# --- state versions ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["distributed", "reference", "citus local"])
def test_state_versions_refuse_tables_citus_manages(
    coord: psycopg.Connection[Any], table: Callable[[str], str], kind: str
) -> None:
    t = table("sv")
    coord.execute(f"CREATE TABLE {t} (id bigint PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, v text)")
    coord.execute(
        {
            "distributed": f"SELECT create_distributed_table('{t}', 'id')",
            "reference": f"SELECT create_reference_table('{t}')",
            "citus local": f"SELECT citus_add_local_table_to_metadata('{t}')",
        }[kind]
    )
    with pytest.raises(errors.ShardedTable) as info:
        pyidsql.enable_state_version(coord, t, history=True)
    assert f"the {kind} table" in str(info.value)
    assert info.value.detail and info.value.hint
    idsql_triggers = (
        "SELECT count(*) FROM pg_trigger AS g JOIN pg_proc AS p ON p.oid = g.tgfoid"
        " WHERE g.tgrelid = %s::regclass AND p.pronamespace = 'idsql'::regnamespace"
    )
    assert coord.execute(idsql_triggers, (t,)).fetchone() == (0,)
    assert coord.execute(
        "SELECT count(*) FROM idsql.state_version_table WHERE tbl = %s::regclass", (t,)
    ).fetchone() == (0,)


def test_state_versions_on_local_tables_as_on_one_server(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    s, e = table("session"), table("entity")
    coord.execute(f"CREATE TABLE {s} (id bigint PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1)")
    coord.execute(
        f"CREATE TABLE {e} (id bigint PRIMARY KEY, session_id bigint REFERENCES {s}, "
        "state_version bigint NOT NULL DEFAULT 1, v text)"
    )
    pyidsql.enable_state_version(coord, s, history=True)
    pyidsql.enable_state_version(coord, e, parent=s, history=True)
    coord.execute(f"INSERT INTO {s} VALUES (1)")
    coord.execute(f"INSERT INTO {e} (id, session_id, v) VALUES (10, 1, 'a')")
    coord.execute(f"UPDATE {e} SET v = 'b' WHERE id = 10")
    assert coord.execute(f"SELECT state_version FROM {e}").fetchone() == (2,)
    assert coord.execute(f"SELECT state_version FROM {s}").fetchone() == (3,)
    assert [v.state_version for v in pyidsql.row_history(coord, e, {"id": 10})] == [1, 2]
    with pytest.raises(errors.StaleVersion) as info, errors.translate_errors():
        coord.execute(f"UPDATE {e} SET v = 'c', state_version = 1 WHERE id = 10")
    assert info.value.sqlstate == "ID301"


# --- ID negotiation ---------------------------------------------------------------------------


def _negotiated(coord: psycopg.Connection[Any], t: str, prefix: str) -> str:
    pyidsql.set_id_strategy(coord, t, "server", f"prefix:{prefix}")
    return pyidsql.new_temp_id(coord, t)


def test_negotiation_refuses_a_temporary_distribution_column(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    t = table("dnote")
    coord.execute(f"CREATE TABLE {t} (id text PRIMARY KEY, body text)")
    coord.execute(f"SELECT create_distributed_table('{t}', 'id')")
    temp = _negotiated(coord, t, "DNO")
    coord.execute(f"INSERT INTO {t} VALUES (%s, 'x')", (temp,))
    with pytest.raises(errors.ShardedId) as info:
        pyidsql.assign_server_id(coord, t, temp)
    assert "distribution column" in (info.value.detail or "")
    assert coord.execute(f"SELECT id FROM {t}").fetchall() == [(temp,)]
    assert pyidsql.resolve_id(coord, t, temp) == temp
    assert pyidsql.current_id(coord, "DNO") is None  # the server ID drawn was rolled back


def test_negotiation_refuses_a_temporary_id_in_a_colocated_foreign_key(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    parent, child = table("acct"), table("acctitem")
    coord.execute(f"CREATE TABLE {parent} (id text PRIMARY KEY)")
    coord.execute(f"CREATE TABLE {child} (acct_id text REFERENCES {parent}, n int, PRIMARY KEY (acct_id, n))")
    coord.execute(f"SELECT create_distributed_table('{parent}', 'id')")
    coord.execute(f"SELECT create_distributed_table('{child}', 'acct_id', colocate_with => '{parent}')")
    temp = _negotiated(coord, parent, "ACC")
    coord.execute(f"INSERT INTO {parent} VALUES (%s)", (temp,))
    coord.execute(f"INSERT INTO {child} VALUES (%s, 1), (%s, 2)", (temp, temp))
    with pytest.raises(errors.ShardedId):
        pyidsql.replace_id_everywhere(coord, parent, temp, "ACC-ZZZ0001")
    assert coord.execute(f"SELECT DISTINCT acct_id FROM {child}").fetchall() == [(temp,)]


def test_negotiation_refuses_a_reference_key_referenced_by_a_distributed_table(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    tag, item = table("tag"), table("taggeditem")
    coord.execute(f"CREATE TABLE {tag} (id text PRIMARY KEY)")
    coord.execute(f"SELECT create_reference_table('{tag}')")
    coord.execute(f"CREATE TABLE {item} (id bigint PRIMARY KEY, tag text REFERENCES {tag} ON UPDATE CASCADE)")
    coord.execute(f"SELECT create_distributed_table('{item}', 'id')")
    temp = _negotiated(coord, tag, "TAG")
    coord.execute(f"INSERT INTO {tag} VALUES (%s)", (temp,))
    coord.execute(f"INSERT INTO {item} VALUES (1, %s)", (temp,))
    with pytest.raises(errors.ShardedId) as info:
        pyidsql.assign_server_id(coord, tag, temp)
    assert info.value.sqlstate == "ID415"
    assert coord.execute(f"SELECT tag FROM {item}").fetchall() == [(temp,)]
    assert coord.execute(f"SELECT id FROM {tag}").fetchall() == [(temp,)]


def test_negotiation_refuses_a_reference_table_key(coord: psycopg.Connection[Any], table: Callable[[str], str]) -> None:
    tag = table("reftag")
    coord.execute(f"CREATE TABLE {tag} (id text PRIMARY KEY)")
    coord.execute(f"SELECT create_reference_table('{tag}')")
    temp = _negotiated(coord, tag, "RTG")
    coord.execute(f"INSERT INTO {tag} VALUES (%s)", (temp,))
    with pytest.raises(errors.ShardedId) as info:
        pyidsql.assign_server_id(coord, tag, temp)
    assert "reference table" in str(info.value)
    assert coord.execute(f"SELECT id FROM {tag}").fetchall() == [(temp,)]


def test_negotiation_on_local_tables_as_on_one_server(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    note, att = table("lnote"), table("lattach")
    coord.execute(f"CREATE TABLE {note} (id text PRIMARY KEY)")
    coord.execute(f"CREATE TABLE {att} (id int PRIMARY KEY, note_id text REFERENCES {note} ON UPDATE CASCADE)")
    temp = _negotiated(coord, note, "LNO")
    coord.execute(f"INSERT INTO {note} VALUES (%s)", (temp,))
    coord.execute(f"INSERT INTO {att} VALUES (1, %s)", (temp,))
    new = pyidsql.assign_server_id(coord, note, temp)
    assert new == "LNO-AAA0001"
    assert coord.execute(f"SELECT note_id FROM {att}").fetchall() == [(new,)]
    assert pyidsql.resolve_id(coord, note, temp) == new


# --- sequence repair ----------------------------------------------------------------------------


def _check_sequences(citus: Cluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyidsql", "check-sequences", "--dsn", citus.dsn()], capture_output=True, text=True
    )


def test_sequence_repair_on_distributed_and_reference_tables(
    citus: Cluster, coord: psycopg.Connection[Any], workers: list[psycopg.Connection[Any]], table: Callable[[str], str]
) -> None:
    d, r, i, loc = table("dser"), table("rser"), table("dident"), table("lser")
    coord.execute(f"CREATE TABLE {loc} (id serial PRIMARY KEY, v text)")  # a local table of the coordinator
    coord.execute(f"CREATE TABLE {d} (id bigserial PRIMARY KEY, v text)")
    coord.execute(f"SELECT create_distributed_table('{d}', 'id')")
    coord.execute(f"CREATE TABLE {r} (id serial PRIMARY KEY, v text)")
    coord.execute(f"SELECT create_reference_table('{r}')")
    coord.execute(f"CREATE TABLE {i} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text)")
    coord.execute(f"SELECT create_distributed_table('{i}', 'id')")
    for t, n in ((d, 100), (r, 50), (i, 70), (loc, 30)):  # an import with explicit IDs
        coord.execute(f"INSERT INTO {t} (id, v) SELECT g, 'x' FROM generate_series(1, {n}) AS g")
    # Workers draw bigint values from a range of their own, far above the coordinator's.
    drawn = workers[0].execute(f"INSERT INTO {d} (v) VALUES ('w') RETURNING id").fetchone()
    assert drawn is not None and drawn[0] > WORKER_RANGE

    gate = _check_sequences(citus)
    assert gate.returncode == 1
    for t in (d, r, i, loc):
        assert f"{t}.id" in gate.stdout

    fixed = {f.table_name: f.next_value for f in pyidsql.fix_all_sequences(coord)}
    assert (fixed[d], fixed[r], fixed[i], fixed[loc]) == (101, 51, 71, 31)
    assert _check_sequences(citus).returncode == 0
    status = {row.table_name: row.status for row in pyidsql.sequence_report(coord)}
    assert status[d] == status[r] == status[i] == status[loc] == "ok"

    # The coordinator issues after the import and below the workers' range; the worker goes on in its own.
    assert coord.execute(f"INSERT INTO {d} (v) VALUES ('c') RETURNING id").fetchone() == (101,)
    again = workers[0].execute(f"INSERT INTO {d} (v) VALUES ('w') RETURNING id").fetchone()
    assert again is not None and again[0] == drawn[0] + 1
    assert coord.execute(f"INSERT INTO {r} (v) VALUES ('c') RETURNING id").fetchone() == (51,)


def test_sequence_repair_never_moves_the_coordinator_into_a_worker_range(
    coord: psycopg.Connection[Any], table: Callable[[str], str]
) -> None:
    d = table("dfar")
    coord.execute(f"CREATE TABLE {d} (id bigserial PRIMARY KEY, v text)")
    coord.execute(f"SELECT create_distributed_table('{d}', 'id')")
    coord.execute(f"INSERT INTO {d} (id, v) VALUES ({WORKER_RANGE - 1}, 'last of the coordinator')")
    fixes = {f.table_name: f for f in pyidsql.fix_all_sequences(coord)}
    assert fixes[d].action == "out_of_range"
    assert coord.execute(f"SELECT last_value FROM {d}_id_seq").fetchone() == (1,)
