"""Through PgBouncer in transaction pooling mode: every wrapper (sync, async, SQLAlchemy) and the CLI.

The test starts PgBouncer (Debian ``pgbouncer``, installed by ``make system-deps``) on a free port in
front of the session's server, with two server connections for all clients and a neighbour that
keeps taking them, so consecutive transactions of one client land on different backends. Clients
connect with ``prepare_threshold=None``: PgBouncer before 1.21 cannot follow server-side prepared
statements across backends (psycopg's documented setting for transaction pooling).

``listen_id_changes`` needs a direct connection; through the pooler it must refuse, clearly.
"""

from __future__ import annotations

import inspect
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import pyidsql
import pyidsql.aio
from pyidsql.testing import PgServer
from pyidsql.tooling import cli
from pyidsql.tooling.pgserver import _free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

SETUP = """
CREATE TABLE customer (id text PRIMARY KEY);
INSERT INTO customer VALUES ('CUS-AAA0042');
CREATE TABLE ticket (id bigint PRIMARY KEY, body text);
CREATE TABLE legacy (id serial PRIMARY KEY);
INSERT INTO legacy VALUES (50);
CREATE TABLE chat_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE entity (entity_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session,
                     name text, state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE project (id text PRIMARY KEY, name text);
CREATE TABLE task (id text PRIMARY KEY, project_id text REFERENCES project);
INSERT INTO project VALUES ('tmp_aaaaaaaaaaaaaaaaaaaaaaaa1', 'a'), ('tmp_aaaaaaaaaaaaaaaaaaaaaaaa2', 'b'),
                           ('tmp_aaaaaaaaaaaaaaaaaaaaaaaa3', 'c');
INSERT INTO task VALUES ('t1', 'tmp_aaaaaaaaaaaaaaaaaaaaaaaa1');
"""
T1, T2, T3 = (f"tmp_{'a' * 24}{i}" for i in (1, 2, 3))
SESSION = {"session_id": "S"}

Raw = Callable[[str], None]

# Every wrapper once, in an order that works: (name, call(module, conn, raw SQL on another connection)).
STEPS: list[tuple[str, Callable[[Any, Any, Raw], Any]]] = [
    ("generate_id", lambda m, c, raw: m.generate_id(c, "CUS")),
    ("bulk_generate_ids", lambda m, c, raw: m.bulk_generate_ids(c, "INV", 3)),
    ("current_id", lambda m, c, raw: m.current_id(c, "INV")),
    ("reset_sequence", lambda m, c, raw: m.reset_sequence(c, "TST", "TST-AAA0009")),
    ("configure_prefix", lambda m, c, raw: m.configure_prefix(c, "FST", "fast")),
    ("sync_prefix", lambda m, c, raw: m.sync_prefix(c, "CUS", "customer", "id")),
    ("prefix_stats", lambda m, c, raw: m.prefix_stats(c)),
    ("id_health_check", lambda m, c, raw: m.id_health_check(c)),
    ("format_id", lambda m, c, raw: m.format_id(c, "CUS", 1)),
    ("parse_id", lambda m, c, raw: m.parse_id(c, "CUS-AAA0001")),
    ("is_valid_id", lambda m, c, raw: m.is_valid_id(c, "CUS-AAA0001")),
    ("increment_id", lambda m, c, raw: m.increment_id(c, "CUS-AAA0001")),
    ("normalize_id", lambda m, c, raw: m.normalize_id(c, " cus-aaa1")),
    ("initialize_table", lambda m, c, raw: m.initialize_table(c, "ticket")),
    ("initialize", lambda m, c, raw: m.initialize(c)),
    ("next_id", lambda m, c, raw: m.next_id(c, "ticket")),
    ("insert_with_retry", lambda m, c, raw: m.insert_with_retry(c, "ticket", {"body": "x"})),
    ("sequence_report", lambda m, c, raw: m.sequence_report(c, ["public"])),
    ("fix_sequence", lambda m, c, raw: m.fix_sequence(c, "legacy", "id")),
    ("fix_all_sequences", lambda m, c, raw: m.fix_all_sequences(c, ["public"])),
    ("fix_all_sequences_report", lambda m, c, raw: m.fix_all_sequences_report(c, ["public"], dry_run=True)),
    ("enable_state_version", lambda m, c, raw: m.enable_state_version(c, "chat_session", history=True)),
    ("enable_state_version", lambda m, c, raw: m.enable_state_version(c, "entity", parent="chat_session",
                                                                     history=True)),
    ("(rows)", lambda m, c, raw: raw("INSERT INTO chat_session VALUES ('S'); "
                                     "INSERT INTO entity VALUES ('E', 'S', 'a')")),
    ("(rows)", lambda m, c, raw: raw("UPDATE entity SET name = 'b'")),
    ("row_history", lambda m, c, raw: m.row_history(c, "chat_session", SESSION)),
    ("children_as_of", lambda m, c, raw: m.children_as_of(c, "entity", SESSION, 2)),
    ("children_as_of_time", lambda m, c, raw: m.children_as_of_time(c, "entity", SESSION, datetime.now(UTC))),
    ("row_history", lambda m, c, raw: m.row_history(c, "entity", {"entity_id": "E"}, as_of=datetime.now(UTC))),
    ("changes_between", lambda m, c, raw: m.changes_between(c, "chat_session", SESSION, 1, 2)),
    ("rollback_to_version", lambda m, c, raw: m.rollback_to_version(c, "chat_session", SESSION, 1)),
    ("prune_history", lambda m, c, raw: m.prune_history(c, "chat_session", 10)),
    ("disable_state_version", lambda m, c, raw: m.disable_state_version(c, "entity")),
    ("set_id_strategy", lambda m, c, raw: m.set_id_strategy(c, "project", "server", "prefix:PRJ")),
    ("new_temp_id", lambda m, c, raw: m.new_temp_id(c, "project")),
    ("is_temp_id", lambda m, c, raw: m.is_temp_id(c, "project", T1)),
    ("plan_replace_id", lambda m, c, raw: m.plan_replace_id(c, "project", T1)),
    ("replace_id_everywhere", lambda m, c, raw: m.replace_id_everywhere(c, "project", T1, "PRJ-X1")),
    ("resolve_id", lambda m, c, raw: m.resolve_id(c, "project", T1)),
    ("assign_server_id", lambda m, c, raw: m.assign_server_id(c, "project", T2)),
    ("negotiate_ids", lambda m, c, raw: m.negotiate_ids(c, [{"table": "project", "temp_id": T3}])),
    ("enqueue_sync", lambda m, c, raw: m.enqueue_sync(c, "project", "PRJ-X1", "update", {"n": 1})),
    ("claim_sync_batch", lambda m, c, raw: m.claim_sync_batch(c, 1)),
    ("complete_sync", lambda m, c, raw: m.complete_sync(c, 1)),
    ("enqueue_sync", lambda m, c, raw: m.enqueue_sync(c, "project", "PRJ-X1", "delete")),
    ("claim_sync_batch", lambda m, c, raw: m.claim_sync_batch(c, 1)),
    ("fail_sync", lambda m, c, raw: m.fail_sync(c, 2, "remote said no")),
    ("enable_late_reference_resolution", lambda m, c, raw: m.enable_late_reference_resolution(c, "task")),
    ("disable_late_reference_resolution", lambda m, c, raw: m.disable_late_reference_resolution(c, "task")),
    ("grant_access", lambda m, c, raw: m.grant_access(c, "pg_monitor")),  # a role every server has
]  # fmt: skip

# What the steps must have left, read back on a direct connection.
OUTCOME = """
SELECT (SELECT array_agg(prefix || '=' || coalesce(idsql.current_id(prefix), '') ORDER BY prefix)
          FROM idsql.prefix_counter),
       (SELECT array_agg(id ORDER BY id) FROM ticket),
       (SELECT state_version FROM chat_session),
       (SELECT array_agg(id ORDER BY id) FROM project),
       (SELECT project_id FROM task),
       (SELECT array_agg(id_negotiation_status::text ORDER BY id) FROM idsql.sync_queue)
"""
EXPECTED_OUTCOME = (
    ["CUS=CUS-AAA0042", "FST=", "INV=INV-AAA0003", "PRJ=PRJ-AAA0002", "TST=TST-AAA0009"],
    [2],  # next_id took 1 without inserting it
    3,  # 1 with its entity (one transaction), the entity's update 2, the rollback 3
    ["PRJ-AAA0001", "PRJ-AAA0002", "PRJ-X1"],
    "PRJ-X1",
    ["complete", "failed"],
)


@pytest.fixture(scope="session")
def pgbouncer(pg_server: PgServer) -> Iterator[int]:
    """Start PgBouncer in transaction pooling mode in front of the session's server; yield its port."""
    if not Path(PGBOUNCER).exists():
        pytest.fail("PgBouncer is not installed: run make system-deps as root (Debian: apt-get install pgbouncer)")
    base = Path(tempfile.mkdtemp(prefix="pyidsql-bouncer-"))
    port = _free_port()
    host = str(pg_server.socket_dir) if pg_server.kind == "embedded" and pg_server.socket_dir else pg_server.host
    (base / "userlist.txt").write_text(f'"{pg_server.user}" ""\n')
    (base / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={pg_server.port} user={pg_server.user}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {base / 'userlist.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        f"admin_users = {pg_server.user}\n"
        f"logfile = {base / 'pgbouncer.log'}\n"
    )
    kwargs: dict[str, Any] = {}
    if os.geteuid() == 0:  # PgBouncer refuses root: run it as the server's own user, who can reach its socket
        uid = pg_server.socket_dir.stat().st_uid if pg_server.socket_dir else 0
        owner = pwd.getpwuid(uid) if uid else pwd.getpwnam(os.environ.get("PYIDSQL_PG_RUNAS") or "postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        for f in base.iterdir():
            os.chown(f, owner.pw_uid, owner.pw_gid)
        kwargs.update(user=owner.pw_uid, group=owner.pw_gid, extra_groups=[])
    proc = subprocess.Popen(
        [PGBOUNCER, str(base / "pgbouncer.ini")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, cwd=base, **kwargs,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(host="127.0.0.1", port=port, user=pg_server.user, dbname=pg_server.maintenance_db,
                                prepare_threshold=None, connect_timeout=5).close()  # fmt: skip
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = base / "pgbouncer.log"
                    text = log.read_text(errors="replace") if log.exists() else ""
                    pytest.fail(f"PgBouncer did not start:\n{text[-2000:]}")
                time.sleep(0.1)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)  # "safe shutdown": waits for clients; then it is killed
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pooled(dsn: str, pgbouncer: int) -> Iterator[str]:
    """The test database through PgBouncer, while a neighbour keeps the two server connections busy."""
    pooled_dsn = make_conninfo(dsn, host="127.0.0.1", port=str(pgbouncer))
    stop = threading.Event()

    def neighbour() -> None:
        with psycopg.connect(pooled_dsn, autocommit=True, prepare_threshold=None) as c:
            while not stop.is_set():
                c.execute("SELECT pg_sleep(0.002)")

    thread = threading.Thread(target=neighbour, daemon=True)
    thread.start()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SETUP)
    yield pooled_dsn
    stop.set()
    thread.join(timeout=10)


def _public_routines(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as c:
        return {r[0] for r in c.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace AND proname !~ '^(_|tg_)'"
        ).fetchall()}  # fmt: skip


def _outcome(dsn: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as c:
        row = c.execute(OUTCOME).fetchone()
        assert row is not None
        return tuple(row)


def test_every_wrapper_is_exercised_through_the_pooler(dsn: str) -> None:
    assert _public_routines(dsn) - {name for name, _ in STEPS} == set()


def test_every_wrapper_works_through_pgbouncer_transaction_pooling(dsn: str, pooled: str) -> None:
    backends = set()
    with psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as c, \
         psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as raw:  # fmt: skip
        for _name, step in STEPS:
            step(pyidsql, c, raw.execute)
            row = c.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            backends.add(row[0])
    assert _outcome(dsn) == EXPECTED_OUTCOME
    assert len(backends) > 1, "every call ran on one backend: the pooler was not in the way"


async def test_every_async_wrapper_works_through_pgbouncer_transaction_pooling(dsn: str, pooled: str) -> None:
    c = await psycopg.AsyncConnection.connect(pooled, autocommit=True, prepare_threshold=None)
    try:
        with psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as raw:
            for _name, step in STEPS:
                result = step(pyidsql.aio, c, raw.execute)
                if inspect.isawaitable(result):
                    await result
    finally:
        await c.close()
    assert _outcome(dsn) == EXPECTED_OUTCOME


def test_every_wrapper_works_through_pgbouncer_with_sqlalchemy(dsn: str, pooled: str) -> None:
    params = conninfo_to_dict(pooled)
    url = sa.URL.create("postgresql+psycopg", username=str(params["user"]), host="127.0.0.1",
                        port=int(str(params["port"])), database=str(params["dbname"]))  # fmt: skip
    engine = sa.create_engine(url, connect_args={"prepare_threshold": None}, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c, psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as raw:
            for _name, step in STEPS:
                step(pyidsql, c, raw.execute)
    finally:
        engine.dispose()
    assert _outcome(dsn) == EXPECTED_OUTCOME
    with psycopg.connect(pooled, prepare_threshold=None) as c:
        manager = pyidsql.IDManager(c)
        assert manager.insert_with_retry("ticket", {"body": "manager"}) is not None


def test_cli_works_through_pgbouncer_transaction_pooling(
    dsn: str, pooled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> tuple[int, str]:
        code = cli.main([*args, "--dsn", pooled])
        out, err = capsys.readouterr()
        return code, out + err

    assert run("status")[0] == 0
    assert run("install")[0] == 0
    for _ in range(2):  # a second client on the same backends: no leftover prepared statement
        code, out = run("next-id", "--table", "ticket", "-n", "8")
        assert (code, len(out.split())) == (0, 8), out
        code, out = run("next-id", "CUS", "-n", "7")
        assert (code, len(out.split())) == (0, 7), out
    assert run("health")[0] == 0
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO legacy VALUES (90)")
    assert run("check-sequences")[0] == 1
    assert run("fix-sequences", "--lock-timeout", "1s")[0] == 0
    assert run("check-sequences")[0] == 0
    # The fix must not leave its settings on a server connection that other clients get next.
    show = "SELECT current_setting('synchronous_commit'), current_setting('lock_timeout')"
    with psycopg.connect(dsn) as c:
        defaults = c.execute(show).fetchone()
    for _ in range(4):
        with psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as c:
            assert c.execute(show).fetchone() == defaults
    assert run("sql")[0] == 0
    assert run("uninstall")[0] == 0
    assert run("status")[0] == 1  # not installed any more


def test_listen_id_changes_refuses_a_pooled_connection(pooled: str) -> None:
    with (
        psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as c,
        pytest.raises(psycopg.ProgrammingError, match="needs a direct connection"),
    ):
        next(pyidsql.listen_id_changes(c, timeout=0.1))


async def test_listen_id_changes_async_refuses_a_pooled_connection(pooled: str) -> None:
    c = await psycopg.AsyncConnection.connect(pooled, autocommit=True, prepare_threshold=None)
    try:
        with pytest.raises(psycopg.ProgrammingError, match="needs a direct connection"):
            await anext(pyidsql.aio.listen_id_changes(c, timeout=0.1))
    finally:
        await c.close()


def test_listen_id_changes_accepts_a_direct_connection(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        assert list(pyidsql.listen_id_changes(c, timeout=0.1)) == []
