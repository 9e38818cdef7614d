"""A tour of pyidsql on a throwaway embedded PostgreSQL: ``python -m pyidsql.tooling.demo`` (``make demo``).

The tour starts a fresh server in a temporary directory, installs idsql through Alembic, then runs
its sections in order on one database. A section is a function decorated with
:func:`section`; it runs real statements through the :class:`Tour` helpers, which print each
statement beside the result the server gave. A new capability adds its own section.
The server and its directory are removed at the end, whatever happens.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, LiteralString

import psycopg

import pyidsql
from pyidsql import IdPrefixes, __version__, errors
from pyidsql.tooling import embedded

WIDTH = 78
"""Width of the headings."""

RESULT_COLUMN = 52
"""Column where a one-line result starts, right of its statement."""

INDENT = "   "

_VOID_OID = 2278  # pg_type.oid of void: functions that return nothing print nothing


# --- sections --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One step of the tour."""

    title: str
    run: Callable[[Tour], None]


SECTIONS: list[Section] = []
"""The tour, in order. Filled by :func:`section`."""


def section(title: str) -> Callable[[Callable[[Tour], None]], Callable[[Tour], None]]:
    """Register the decorated function as the next section of the tour, under *title*."""

    def register(func: Callable[[Tour], None]) -> Callable[[Tour], None]:
        SECTIONS.append(Section(title, func))
        return func

    return register


# --- printing statements beside their results ------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class Tour:
    """The connection a tour runs on, and the helpers that print what it does."""

    def __init__(self, conn: psycopg.Connection[Any], dsn: str, out: Any = None) -> None:
        self.conn = conn
        self.dsn = dsn
        self.out = out or sys.stdout

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def heading(self, number: int, title: str) -> None:
        """Print a section heading, as an SQL comment ruled to the full width."""
        head = f"-- {number}. {title} "
        self.print()
        self.print(head + "-" * max(3, WIDTH - len(head)))

    def say(self, text: str) -> None:
        """Print a comment line: what the next lines show."""
        for line in textwrap.wrap(text, WIDTH - len(INDENT) - 3):
            self.print(f"{INDENT}-- {line}")

    def show(self, code: str, result: str = "", note: str = "") -> None:
        """Print *code* with *result* beside it (or below it when *code* is long)."""
        tail = "   ".join(part for part in (result, f"-- {note}" if note else "") if part)
        line = INDENT + code
        if not tail:
            self.print(line)
        elif len(line) < RESULT_COLUMN - 1:
            self.print(line.ljust(RESULT_COLUMN) + tail)
        else:
            self.print(line)
            self.print(" " * RESULT_COLUMN + tail)

    def sql(self, query: LiteralString, note: str = "") -> list[tuple[Any, ...]]:
        """Run *query*, print it and its result, and return the rows.

        One value prints beside the statement; a single row prints as ``a | b``; more rows print
        as a table below it.
        """
        cur = self.conn.execute(query)
        if cur.description is None:  # BEGIN, ROLLBACK, …
            self.show(query, "", note)
            return []
        rows = cur.fetchall()
        if len(cur.description) == 1 and cur.description[0].type_code == _VOID_OID:
            self.show(query, "", note)
        elif len(rows) == 1:
            self.show(query, " | ".join(_cell(v) for v in rows[0]), note)
        else:
            self.show(query, "", note)
            self.table([c.name for c in cur.description], rows)
        return rows

    def table(self, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Print rows as an aligned table, under the statement that produced them."""
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
        # Numbers align right, as psql prints them.
        numeric = [all(isinstance(r[i], (int, float)) for r in rows if r[i] is not None) for i in range(len(names))]
        pad = INDENT + "  "

        def line(values: Sequence[str]) -> str:
            parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
            return (pad + " | ".join(parts)).rstrip()

        self.print(line(names))
        self.print(pad + "-+-".join("-" * w for w in widths))
        for row in cells:
            self.print(line(row))

    def error(self, query: LiteralString) -> None:
        """Run *query*, which must fail, and print the error as PostgreSQL reports it."""
        try:
            self.conn.execute(query)
        except psycopg.Error as exc:
            self.show(query)
            diag = exc.diag
            pad = INDENT + "  "
            self.print(f"{pad}ERROR:  {diag.message_primary}   (SQLSTATE {exc.sqlstate})")
            if diag.message_detail:
                self.print(f"{pad}DETAIL: {diag.message_detail}")
            if diag.message_hint:
                self.print(f"{pad}HINT:   {diag.message_hint}")
            mapped = errors.translate(exc)
            if mapped is not None:
                self.print(f"{pad}-- from Python: raises pyidsql.errors.{type(mapped).__name__}")
            return
        raise AssertionError(f"the tour expected an error from: {query}")


# --- the tour --------------------------------------------------------------------------------


@section("Install idsql through Alembic")
def install_through_alembic(t: Tour) -> None:
    """Install idsql with pyidsql's own Alembic branch: every later section needs it."""
    began = time.perf_counter()
    try:
        from pyidsql.alembic import upgrade
    except ImportError as exc:  # an install without the Alembic channel: say so, go on
        from pyidsql import install

        with psycopg.connect(t.dsn) as conn:
            install.install(conn, channel="cli")
        t.show("pyidsql.install.install(conn)", f"{time.perf_counter() - began:.2f} s")
        t.say(f"NOTE: pyidsql.alembic is not available ({exc}); installed with pyidsql install instead")
        return
    upgrade(t.dsn, "heads")
    t.show('pyidsql.alembic.upgrade(dsn, "heads")', f"{time.perf_counter() - began:.2f} s")
    t.say("recorded in pyidsql's own version table, apart from alembic_version:")
    t.sql("SELECT version_num FROM idsql_alembic_version;")
    t.sql("SELECT version, channel FROM idsql.installation;")


@section("First IDs: one counter per prefix, created on first use")
def first_ids(t: Tour) -> None:
    t.sql("SELECT idsql.generate_id('CUS');")
    t.sql("SELECT idsql.generate_id('CUS');")
    t.sql("SELECT idsql.generate_id('VEN');")
    t.sql("SELECT idsql.current_id('CUS');", "reads only")
    t.say("the same from Python, with the original prefixes (pyidsql.IdPrefixes):")
    for name in ("WAREHOUSE", "PURCHASE_ORDER", "INVENTORY"):
        prefix = getattr(IdPrefixes, name)
        t.show(f"generate_id(conn, IdPrefixes.{name})", pyidsql.generate_id(t.conn, prefix))


@section("Boundaries: 9999 numbers per letter block, then the letters move on")
def boundaries(t: Tour) -> None:
    t.sql("SELECT idsql.reset_sequence('CUS', 'CUS-AAA9999');")
    t.sql("SELECT idsql.generate_id('CUS');", "AAA is full")
    t.sql("SELECT idsql.reset_sequence('TEST', 'TEST-ZZZ9999');")
    t.sql("SELECT idsql.generate_id('TEST');", "ZZZ is full: 4 letters")
    t.sql("SELECT idsql.increment_id('PUR-AZZ9999');", "pure: no counter moves")
    t.say("an ID is a function of its ordinal, the one bigint the counter holds:")
    t.sql("SELECT * FROM idsql.parse_id('TEST-AAAA0001');")
    t.sql("SELECT idsql.format_id('TEST', 175742424);")


@section("Bulk: n consecutive IDs from one counter update")
def bulk(t: Tour) -> None:
    rows = t.conn.execute("SELECT idsql.bulk_generate_ids('INV', 10)").fetchall()
    t.show("SELECT idsql.bulk_generate_ids('INV', 10);")
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 5):
        t.print(INDENT + "  " + "  ".join(ids[start : start + 5]))
    began = time.perf_counter()
    count = t.conn.execute("SELECT count(*) FROM idsql.bulk_generate_ids('INV', 100000)").fetchone()
    took = time.perf_counter() - began
    assert count is not None
    t.show("SELECT count(*) FROM idsql.bulk_generate_ids('INV', 100000);", _cell(count[0]), f"{took * 1000:.0f} ms")
    t.sql("SELECT idsql.current_id('INV');")


@section("Gapless or fast: what a rollback does to the number")
def modes(t: Tour) -> None:
    t.say("gapless (the default): the counter moves inside your transaction")
    t.sql("BEGIN;")
    t.sql("SELECT idsql.generate_id('SAL');")
    t.sql("ROLLBACK;", "the number goes back")
    t.sql("SELECT idsql.generate_id('SAL');", "issued again: no hole")
    t.say("fast: a native sequence; never waits, but a rollback leaves a hole")
    t.sql("SELECT idsql.configure_prefix('REC', 'fast');")
    t.sql("BEGIN;")
    t.sql("SELECT idsql.generate_id('REC');")
    t.sql("ROLLBACK;")
    t.sql("SELECT idsql.generate_id('REC');", "a hole at REC-AAA0001")


@section("Validation: errors in PostgreSQL's style, SQLSTATE class ID")
def validation(t: Tour) -> None:
    t.error("SELECT idsql.generate_id('cus-1');")
    t.error("SELECT * FROM idsql.parse_id('CUS-AA0001');")
    t.sql("SELECT idsql.is_valid_id('CUS-AA0001');", "never raises: fit for CHECK")
    t.say("format correction recovers what it can, and says why when it cannot:")
    t.sql("SELECT idsql.normalize_id(' cus-aab12');")
    t.error("SELECT idsql.normalize_id('CUS-A1B0012');")


@section("Statistics and health")
def stats_and_health(t: Tour) -> None:
    t.sql("SELECT prefix, mode, last_id, issued FROM idsql.prefix_stats();")
    row = t.conn.execute("SELECT idsql.id_health_check()").fetchone()
    assert row is not None
    t.show("SELECT idsql.id_health_check();")
    for key, value in row[0].items():
        t.print(f"{INDENT}  {key:<18} {_cell(value)}")
    t.say("the probe ID was rolled back: no row, counter or prefix is left behind")


@section("Table IDs: one integer counter per table, shared by every client")
def table_ids(t: Tour) -> None:
    t.sql(
        "CREATE TABLE chat_history (id bigint PRIMARY KEY, user_id text NOT NULL, query text,"
        " domain text NOT NULL DEFAULT 'general');"
    )
    t.sql("INSERT INTO chat_history (id, user_id) VALUES (1, 'u'), (2, 'u'), (5, 'u'), (7, 'u');")
    t.say("gaps are not refilled: the next ID is max(row_count + 1, max_id + 1, initial_value)")
    t.sql("SELECT idsql.initialize_table('chat_history');", "ids 1, 2, 5, 7")
    t.sql("SELECT idsql.next_id('chat_history');")
    t.say("a manual insert with an explicit ID pushes the counter past it:")
    t.sql("INSERT INTO chat_history (id, user_id) VALUES (100, 'manual');")
    t.sql("SELECT idsql.next_id('chat_history');", "past the manual 100")
    t.say("insert_with_retry: the next ID, the row typed and its defaults applied, skipping taken IDs:")
    t.sql("""SELECT idsql.insert_with_retry('chat_history', '{"user_id": "user123", "query": "Hello"}');""")
    t.sql("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer NOT NULL);")
    t.sql("SELECT idsql.initialize_table('feedback', initial_value => 1000);", "an empty table")
    t.say("the same from Python, with the original IDManager interface:")
    manager = pyidsql.IDManager(t.conn)
    row = manager.insert_with_retry("feedback", {"rating": 5})
    t.show('manager.insert_with_retry("feedback", {"rating": 5})', _cell(row))
    t.show('manager.next_id("feedback")', _cell(manager.next_id("feedback")))
    t.error("""SELECT idsql.insert_with_retry('feedback', '{"stars": 5}');""")
    t.sql("SELECT table_name, seq, pg_sequence_last_value(seq) AS last_value, conflicts FROM idsql.table_counter;")


@section("Sequence repair: a restore leaves sequences behind, one CALL fixes them")
def sequence_repair(t: Tour) -> None:
    t.sql('CREATE TABLE "user" (user_id serial PRIMARY KEY, name text);')
    t.sql("CREATE TABLE battery_rental (rental_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);")
    t.say("a restore or an import writes rows with explicit IDs; the sequences stay at 1:")
    t.sql("""INSERT INTO "user" VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger');""")
    t.sql("INSERT INTO battery_rental OVERRIDING SYSTEM VALUE SELECT generate_series(1, 15);")
    t.error("""INSERT INTO "user" (name) VALUES ('barbara');""")
    t.say("the drift report finds every sequence through the catalog, never by its name:")
    t.sql("SELECT table_name, kind, data_max, next_value, status FROM idsql.sequence_report();")
    t.say("the fix, one commit per table; a NOTICE per sequence, as the original runbook printed:")
    notices: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        notices.append(f"{diag.severity_nonlocalized}:  {diag.message_primary}")

    t.conn.add_notice_handler(collect)
    try:
        t.sql("CALL idsql.fix_all_sequences();")
    finally:
        t.conn.remove_notice_handler(collect)
    for line in notices:
        t.print(f"{INDENT}  {line}")
    t.sql("""INSERT INTO "user" (name) VALUES ('barbara') RETURNING user_id;""", "works again")
    t.say("from a shell: pyidsql check-sequences (exit 1 if any is behind), pyidsql fix-sequences")


_STATE_VERSIONS_DDL = """
CREATE TABLE chat_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1,
                           updated_at timestamptz);
CREATE TABLE entity (entity_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session,
                     name text, state_version bigint NOT NULL DEFAULT 1,
                     created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE entity_attribute (attribute_id text PRIMARY KEY, entity_id text NOT NULL REFERENCES entity,
                               name text, value text);
CREATE VIEW versions AS
SELECT (SELECT state_version FROM chat_session) AS session,
       string_agg(entity_id || ' v' || state_version, ', ' ORDER BY entity_id) AS entities
  FROM entity;
"""

_VERSIONS: LiteralString = "SELECT * FROM versions;"


@section("State versions: session -> entity -> attribute, with history")
def state_versions(t: Tour) -> None:
    """Replay the original worked example: v1..v4, as-of version 2, diff 2->4, rollback to 2."""
    t.conn.execute(_STATE_VERSIONS_DDL)
    t.say("the original's three tables (chat_session, entity, entity_attribute), and a view `versions`")
    t.say("that shows the state_version of the session and of each entity; then:")
    t.sql("SELECT idsql.enable_state_version('chat_session', history => true);")
    t.sql("SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true);")
    t.sql(
        "SELECT idsql.enable_state_version('entity_attribute', version_column => NULL, parent => 'entity',"
        " history => true);"
    )
    t.say("initial: one transaction, so the session counts it once")
    t.sql("BEGIN;")
    t.sql("INSERT INTO chat_session (session_id) VALUES ('S');")
    t.sql("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice'), ('B', 'S', 'Bob');")
    t.sql("COMMIT;")
    t.sql(_VERSIONS, "session v1")
    t.sql("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol');")
    t.sql(_VERSIONS, "create entity C")
    t.sql("UPDATE entity SET name = 'Alice Smith' WHERE entity_id = 'A';")
    t.sql(_VERSIONS, "update entity A")
    t.sql("DELETE FROM entity WHERE entity_id = 'B';")
    t.sql(_VERSIONS, "delete entity B")
    t.say("an attribute has no version of its own: it counts for its entity and the session")
    t.sql("INSERT INTO entity_attribute VALUES ('a1', 'C', 'colour', 'red');")
    t.sql(_VERSIONS)
    t.sql("UPDATE entity SET name = name;", "a no-op counts for nothing")
    t.say("as-of: the entities when the session was at version 2")
    t.sql(
        "SELECT e ->> 'entity_id' AS entity, e ->> 'name' AS name, e ->> 'state_version' AS v"
        " FROM idsql.children_as_of('entity', '{\"session_id\": \"S\"}', 2) AS e;"
    )
    t.say("what changed from version 2 to 4 (bookkeeping columns never count):")
    t.sql(
        "SELECT table_name, key, change, changed_fields"
        " FROM idsql.changes_between('chat_session', '{\"session_id\": \"S\"}', 2, 4);"
    )
    t.say("rollback to version 2, as a new version (the attribute was added at 5, so it goes too):")
    t.sql("SELECT idsql.rollback_to_version('chat_session', '{\"session_id\": \"S\"}', 2);")
    t.sql("SELECT entity_id, name, state_version FROM entity ORDER BY 1;")
    t.say("optimistic locking in the database, for raw SQL and ORMs alike:")
    t.error("UPDATE entity SET name = 'Al', state_version = 1 WHERE entity_id = 'A';")
    t.say("the same from Python: pyidsql.row_history(conn, 'entity', {'entity_id': 'A'})")
    for h in pyidsql.row_history(t.conn, "entity", {"entity_id": "A"}):
        t.print(f"{INDENT}  v{h.state_version}  session v{h.root_version}  {h.operation:<6} {h.row_data['name']}")


@section("ID negotiation: an offline chain gets its server IDs everywhere")
def negotiation(t: Tour) -> None:
    t.conn.execute(
        "CREATE TABLE demo_project (id text PRIMARY KEY, name text NOT NULL);"
        "CREATE TABLE demo_task (id text PRIMARY KEY, project_id text NOT NULL REFERENCES demo_project,"
        " name text NOT NULL);"
        "CREATE TABLE demo_subtask (id text PRIMARY KEY, task_id text NOT NULL REFERENCES demo_task,"
        " name text NOT NULL);"
        "CREATE INDEX ON demo_task (project_id); CREATE INDEX ON demo_subtask (task_id);"
    )
    t.say("tables demo_project <- demo_task <- demo_subtask (plain foreign keys); the server assigns their IDs:")
    t.sql("SELECT idsql.set_id_strategy('demo_project', 'server', 'prefix:PRJ');")
    t.sql("SELECT idsql.set_id_strategy('demo_task', 'server', 'prefix:TSK');")
    t.sql("SELECT idsql.set_id_strategy('demo_subtask', 'server', 'prefix:SUB');")
    t.say("offline, the client creates the chain with temporary IDs and queues it for the API:")
    project = pyidsql.new_temp_id(t.conn, "demo_project")
    task = pyidsql.new_temp_id(t.conn, "demo_task")
    subtask = pyidsql.new_temp_id(t.conn, "demo_subtask")
    t.conn.execute("INSERT INTO demo_project VALUES (%s, 'Launch')", (project,))
    t.conn.execute("INSERT INTO demo_task VALUES (%s, %s, 'Write the docs')", (task, project))
    t.conn.execute("INSERT INTO demo_subtask VALUES (%s, %s, 'README')", (subtask, task))
    pyidsql.enqueue_sync(t.conn, "demo_subtask", subtask, "create", {"task_id": task, "name": "README"})
    chain: LiteralString = (
        "SELECT p.id AS project, t.id AS task, s.id AS subtask FROM demo_subtask AS s"
        " JOIN demo_task AS t ON t.id = s.task_id JOIN demo_project AS p ON p.id = t.project_id;"
    )
    t.sql(chain)
    t.sql("SELECT model_id, payload FROM idsql.sync_queue;")

    # A second connection listens; it replays the change log first, so it cannot miss an event.
    heard: list[pyidsql.IdChanged] = []
    with psycopg.connect(t.dsn, autocommit=True) as listener:
        since = t.conn.execute("SELECT coalesce(max(id), 0) FROM idsql.id_change_log").fetchone()
        assert since is not None
        events = pyidsql.listen_id_changes(listener, since_log_id=since[0], timeout=10)
        t.say("back online, the API answers with server IDs; the project first, then a batch, out of order:")
        plan = pyidsql.plan_replace_id(t.conn, "demo_project", project)
        t.show(f"plan_replace_id(conn, 'demo_project', '{project}')")
        t.table(
            ["table_name", "columns", "rows", "strategy"],
            [(p.table_name, ",".join(p.columns), p.rows, p.strategy) for p in plan],
        )
        t.show(
            f"assign_server_id(conn, 'demo_project', '{project}')",
            pyidsql.assign_server_id(t.conn, "demo_project", project),
        )
        batch = [{"table": "demo_subtask", "temp_id": subtask}, {"table": "demo_task", "temp_id": task}]
        results = pyidsql.negotiate_ids(t.conn, batch)
        t.show("negotiate_ids(conn, [subtask, task])", ", ".join(r["new_id"] for r in results), "one NOTIFY")
        t.sql(chain)
        t.sql("SELECT model_id, payload FROM idsql.sync_queue;")
        for event in events:
            heard.append(event)
            if len(heard) == 3:
                break
    t.say("what the listener on the second connection received (idsql_id_changed, then the change log):")
    t.table(
        ["log_id", "table", "old_id", "new_id", "touched"],
        [(e.log_id, e.table, e.old_id, e.new_id, e.touched) for e in heard],
    )
    t.show(
        f"resolve_id(conn, 'demo_task', '{task}')",
        pyidsql.resolve_id(t.conn, "demo_task", task),
        "a late reference still resolves",
    )


# --- running it ------------------------------------------------------------------------------


def _server_user(data: Path) -> str:
    try:
        return pwd.getpwuid(data.stat().st_uid).pw_name
    except (KeyError, OSError):
        return "?"


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally that removes the server


def run(out: Any = None) -> None:
    """Run the whole tour on a fresh embedded server, and remove the server afterwards."""
    out = out or sys.stdout
    began = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="pyidsql-demo-"))
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        dsn = embedded.start(home)
        started = time.perf_counter() - began
        with psycopg.connect(dsn, autocommit=True) as conn:
            server = conn.info.parameter_status("server_version") or "?"
            t = Tour(conn, dsn, out)
            data = embedded.pgdata(home)
            t.print(f"pyidsql {__version__}: a tour on a throwaway PostgreSQL {server}")
            as_root = f"   (as root it runs as OS user {_server_user(data)})" if os.geteuid() == 0 else ""
            t.print(f"{INDENT}data    {data}{as_root}")
            t.print(f"{INDENT}dsn     {dsn}")
            t.print(f"{INDENT}started in {started:.1f} s; stopped and removed when the tour ends")
            for number, step in enumerate(SECTIONS, start=1):
                t.heading(number, step.title)
                step.run(t)
    finally:
        try:
            embedded.down(home)
        finally:
            shutil.rmtree(home, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)
    _next_steps(out, time.perf_counter() - began, home)


def _next_steps(out: Any, took: float, home: Path) -> None:
    rule = "-- Where next " + "-" * (WIDTH - len("-- Where next "))
    print(
        f"\n{rule}\n"
        f"{INDENT}The tour took {took:.1f} s; its server is stopped and {home} is gone.\n"
        f"{INDENT}For a server that stays, in ./.pyidsql (or $PYIDSQL_HOME):\n"
        f"{INDENT}  pyidsql up                  start it, install idsql, print the DSN\n"
        f"{INDENT}  pyidsql psql                psql on it: SELECT idsql.generate_id('CUS');\n"
        f"{INDENT}  pyidsql next-id CUS -n 3    IDs from the command line\n"
        f"{INDENT}  pyidsql next-id --table T   a table's next integer ID\n"
        f"{INDENT}  pyidsql down                stop it (the data stays)\n"
        f"{INDENT}(from a checkout: .venv/bin/pyidsql …)",
        file=out,
    )


def main() -> int:
    """Run the tour; exit 1 with a message if the embedded server cannot start."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    try:
        run()
    except embedded.EmbeddedError as exc:
        print(f"pyidsql demo: {exc}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
