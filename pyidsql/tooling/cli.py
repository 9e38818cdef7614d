"""The ``pyidsql`` command: thin argument parsing over the same wrappers the library exports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg

from pyidsql import __version__
from pyidsql.errors import IdsqlError


def _dsn(args: argparse.Namespace) -> str:
    dsn = args.dsn or os.environ.get("PYIDSQL_DSN") or os.environ.get("DATABASE_URL")
    if not dsn:
        from pyidsql.tooling import embedded

        dsn = embedded.running_dsn()
    if not dsn:
        raise SystemExit("pyidsql: no database given: pass --dsn, set PYIDSQL_DSN, or start one with 'pyidsql up'")
    return dsn


def _connect(args: argparse.Namespace, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    # No server-side prepared statements: a command runs a query a few times at most, and through
    # a transaction pooler (PgBouncer) the ones psycopg prepares stay on a backend that the next
    # client gets, whose own first prepared statement then collides with them.
    try:
        return psycopg.connect(_dsn(args), autocommit=autocommit, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"pyidsql: cannot connect: {exc}".rstrip()) from exc


def cmd_install(args: argparse.Namespace) -> int:
    from pyidsql import install

    with _connect(args) as conn:
        try:
            version = install.install_tle(conn) if args.tle else install.install(conn, channel="cli")
            conn.commit()
            workers = install.prepare_citus_workers(conn)
        except install.TleNotAvailable as exc:
            print(f"pyidsql: {exc}", file=sys.stderr)
            return 1
    print(f"idsql {version} installed{' through pg_tle' if args.tle else ''}")
    if workers:
        print(f"  on the {workers} Citus worker(s), idsql's functions now refuse (ID903) and name the coordinator")
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    import pyidsql

    with _connect(args) as conn:
        pyidsql.grant_access(conn, args.role, admin=args.admin)
    print(f"{args.role} may now {'administer' if args.admin else 'use'} idsql")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pyidsql import install

    with _connect(args) as conn:
        st = install.status(conn)
    if not st.installed:
        print("idsql is not installed")
        return 1
    print(f"idsql {st.version} (installed through {st.channel} at {st.installed_at:%Y-%m-%d %H:%M:%S%z})")
    print(f"  functions: {st.functions}  tables: {st.tables}  triggers on user tables: {st.user_triggers}")
    if st.version != __version__:
        print(f"  this pyidsql is {__version__}: run 'pyidsql install' to upgrade")
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from pyidsql import install

    with _connect(args) as conn:
        if not install.status(conn).installed:
            print("idsql is not installed")
            return 0
        try:
            install.uninstall(conn, force=args.force)
        except install.UninstallRefused as exc:
            print(f"pyidsql: {exc}", file=sys.stderr)
            return 1
    print("idsql uninstalled")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from pyidsql import install

    try:
        script = install.psql_script(args.source)
    except ValueError as exc:
        print(f"pyidsql: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(script)
    return 0


def cmd_next_id(args: argparse.Namespace) -> int:
    import pyidsql

    if args.id_column is not None and args.table is None:
        print("pyidsql: --id-column names the ID column of --table\nHINT: Pass --table too.", file=sys.stderr)
        return 2
    if args.table is not None and args.n < 1:
        print(f'pyidsql: invalid count "{args.n}"\nHINT: Pass -n 1 or more.', file=sys.stderr)
        return 2
    with _connect(args) as conn:
        if args.table is not None:
            if args.id_column is not None:
                _register_id_column(conn, args.table, args.id_column)
            ids = [str(pyidsql.next_id(conn, args.table)) for _ in range(args.n)]
        elif args.n == 1:
            ids = [pyidsql.generate_id(conn, args.prefix)]
        else:
            ids = pyidsql.bulk_generate_ids(conn, args.prefix, args.n)
    print("\n".join(ids))
    return 0


def _register_id_column(conn: psycopg.Connection[Any], table: str, id_column: str) -> None:
    """Register *table* for next_id with *id_column*, unless it already is (its initial value kept)."""
    conn.execute(
        "SELECT idsql.initialize_table(s.t, id_column => %s, initial_value => coalesce(c.initial_value, 1))"
        "  FROM (SELECT %s::regclass AS t) AS s"
        "  LEFT JOIN idsql.table_counter AS c ON c.table_name = s.t"
        " WHERE c.id_column IS DISTINCT FROM %s",
        (id_column, table, id_column),
    )


def cmd_health(args: argparse.Namespace) -> int:
    import pyidsql

    with _connect(args) as conn:
        report = pyidsql.id_health_check(conn)
    print(json.dumps(report, indent=2))
    return 0 if report.get("status") == "healthy" else 1


PROGRESS_FROM = 50
"""Show a progress bar for fix-sequences from this many sequences on, when stdout is a terminal."""


class _Progress:
    """A one-line progress bar on a terminal; report lines print above it."""

    def __init__(self, total: int, out: Any) -> None:
        self.total, self.done, self.out = total, 0, out

    def print(self, line: str) -> None:
        self.out.write(f"\r\033[K{line}\n")
        self.draw()

    def step(self) -> None:
        self.done += 1
        self.draw()

    def draw(self) -> None:
        width = 30
        filled = width * self.done // max(self.total, 1)
        self.out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} sequences")
        self.out.flush()

    def close(self) -> None:
        self.out.write("\r\033[K")
        self.out.flush()


def cmd_fix_sequences(args: argparse.Namespace) -> int:
    from pyidsql import sequence_repair

    # Autocommit: each sequence is fixed and committed on its own, as CALL idsql.fix_all_sequences()
    # does, so each table is locked only while its own sequence moves, and progress shows as it goes.
    # Like the procedure, those commits skip the WAL flush and one durable commit at the end covers
    # them all: a flush per table would cost more than the fixes.
    # The settings are SET LOCAL in each fix's transaction, never on the session: through a
    # transaction pooler (PgBouncer) a session setting stays on a server connection that other
    # clients get next, and a later transaction of ours may run on another one without it.
    with _connect(args, autocommit=True) as conn:
        total, groups = sequence_repair.fix_sequences_one_by_one(
            conn, args.schema, args.margin, args.allow_backward, args.dry_run
        )

        def fixes() -> Iterator[Any]:
            while True:
                with conn.transaction():
                    conn.execute(
                        "SELECT set_config('lock_timeout', %s, true), set_config('synchronous_commit', 'off', true)",
                        (args.lock_timeout,),
                    )
                    fix = next(groups, None)
                if fix is None:
                    return
                yield fix

        bar = _Progress(total, sys.stdout) if sys.stdout.isatty() and total >= PROGRESS_FROM else None
        fixed = problems = 0
        for fix in fixes():
            fixed += fix.fixed
            problems += fix.warning is not None
            for line in (fix.notice, fix.warning):
                if line is not None and bar is not None:
                    bar.print(line)
                elif line is not None:
                    print(line, flush=True)
            if bar is not None:
                bar.step()
        if bar is not None:
            bar.close()
        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = on")
            conn.execute("SELECT pg_current_xact_id()")  # its commit flushes the WAL of every fix
        print(sequence_repair.fix_summary(conn, fixed, args.dry_run))
    return 1 if problems else 0


def _sequences(n: int) -> str:
    return f"{n} sequence{'' if n == 1 else 's'}"


def cmd_check_sequences(args: argparse.Namespace) -> int:
    from pyidsql import sequence_repair

    # A dry run, one sequence per transaction: idsql.sequence_report() reads every table in one
    # statement, and so needs a lock slot per table, index and sequence, which a database of
    # many thousands of tables may not have (max_locks_per_transaction).
    with _connect(args, autocommit=True) as conn:
        total, checks = sequence_repair.fix_sequences_one_by_one(conn, args.schema, 0, False, True)
        statuses: dict[str, int] = {}
        for check in checks:
            if check.status in ("behind", "near_limit"):
                print(f"{check.status:<10}  {check.label}  (max: {check.data_max}, next: {check.previous_next})")
            statuses[str(check.status)] = statuses.get(str(check.status), 0) + 1
    # The statuses of idsql.sequence_report(), in its words and order of urgency.
    counts = ", ".join(f"{statuses[s]} {s}" for s in ("behind", "near_limit", "ahead", "empty", "ok") if s in statuses)
    behind = statuses.get("behind", 0)
    if behind:
        print(f"{_sequences(total)}: {counts}; run 'pyidsql fix-sequences'")
        return 1
    print(f"{_sequences(total)}: {counts}" if total else "no sequences")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from pyidsql.tooling import embedded

    try:
        print(embedded.up())
    except embedded.EmbeddedError as exc:
        print(f"pyidsql: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from pyidsql.tooling import embedded

    try:
        stopped = embedded.down()
    except embedded.EmbeddedError as exc:
        print(f"pyidsql: {exc}", file=sys.stderr)
        return 1
    where = embedded.pgdata()
    print(f"embedded PostgreSQL {'stopped' if stopped else 'was not running'} (data kept in {where})")
    return 0


def cmd_psql(args: argparse.Namespace) -> int:
    from pyidsql.tooling import embedded

    try:
        return embedded.psql(args.dsn, args.psql_args)
    except embedded.EmbeddedError as exc:
        print(f"pyidsql: {exc}", file=sys.stderr)
        return 1


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyidsql", description="ID logic kept inside PostgreSQL.")
    parser.add_argument("--version", action="version", version=f"pyidsql {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--dsn", help="connection string (default: $PYIDSQL_DSN, $DATABASE_URL, or 'pyidsql up')")
        p.set_defaults(func=func)
        return p

    p = add("install", cmd_install, "install or upgrade the idsql schema (idempotent)")
    p.add_argument("--tle", action="store_true", help="install as an extension through pg_tle (managed servers)")
    add("status", cmd_status, "show the installed version, its channel and objects")
    p = add("uninstall", cmd_uninstall, "drop the idsql schema")
    p.add_argument("--force", action="store_true", help="also drop user objects that depend on idsql")
    p = add("sql", cmd_sql, "print the install script for psql -f")
    p.add_argument(
        "--from", dest="source", metavar="VERSION", help="print the upgrade script from this installed version instead"
    )
    p = add("grant", cmd_grant, "let a role use idsql (generate and read IDs), or administer it")
    p.add_argument("--role", required=True, help="the role's exact name")
    p.add_argument("--admin", action="store_true", help="also reset, configure, fix sequences, set strategies")
    p = add("next-id", cmd_next_id, "generate the next ID(s) for a prefix or a table and commit")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("prefix", nargs="?", help="prefix, e.g. CUS")
    which.add_argument("--table", help="a table's next integer ID(s) instead (idsql.next_id), e.g. chat_history")
    p.add_argument("--id-column", help="with --table: its ID column, when it is not id (e.g. actor_id)")
    p.add_argument("-n", type=int, default=1, help="how many consecutive IDs (default 1)")
    add("health", cmd_health, "run id_health_check() and print its report")
    p = add("fix-sequences", cmd_fix_sequences, "move every sequence that is behind its data past it, and report")
    p.add_argument("--schema", action="append", help="only this schema (repeatable; default: all)")
    p.add_argument("--dry-run", action="store_true", help="report what would be fixed; change nothing")
    p.add_argument("--margin", type=_non_negative, default=0, help="leave N values unused past the data")
    p.add_argument("--allow-backward", action="store_true", help="also rewind sequences that are ahead")
    p.add_argument(
        "--lock-timeout", default="5s", help="how long to wait for each table's writers before skipping it (default 5s)"
    )
    p = add("check-sequences", cmd_check_sequences, "list sequences behind their data; exit 1 if any")
    p.add_argument("--schema", action="append", help="only this schema (repeatable; default: all)")
    add("up", cmd_up, "start the embedded PostgreSQL with idsql installed and print its DSN")
    add("down", cmd_down, "stop the embedded PostgreSQL started by 'pyidsql up'")
    p = add("psql", cmd_psql, "open psql on the database (default: the embedded one)")
    p.add_argument("psql_args", nargs=argparse.REMAINDER, help="arguments passed to psql, e.g. -c 'SELECT 1'")
    return parser


def _split_psql_argv(rest: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``pyidsql psql ...`` into pyidsql's leading options and psql's arguments.

    argparse cannot hand a REMAINDER that starts with an option (``-c``) to a positional, so
    pyidsql's options (``--dsn``, ``--help``) are taken from the front by hand; the rest, from the
    first other word (or after ``--``), goes to psql untouched.
    """
    ours: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--":
            i += 1
            break
        if word == "--help" or word.startswith("--dsn="):
            ours.append(word)
        elif word == "--dsn" and i + 1 < len(rest):
            ours += [word, rest[i + 1]]
            i += 1
        else:
            break
        i += 1
    return ours, list(rest[i:])


def _error(sqlstate: str | None, message: str, detail: str | None, hint: str | None) -> str:
    """Return a database error as psql prints it with its SQLSTATE: ``ERROR:  ID001: …``, DETAIL, HINT."""
    lines = [f"pyidsql: ERROR:  {sqlstate + ': ' if sqlstate else ''}{message}"]
    lines += [f"DETAIL:  {detail}"] if detail else []
    lines += [f"HINT:  {hint}"] if hint else []
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["psql"]:
        ours, theirs = _split_psql_argv(argv[1:])
        args = build_parser().parse_args(["psql", *ours])
        args.psql_args = theirs
    else:
        args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except IdsqlError as exc:
        print(_error(exc.sqlstate, exc.args[0] if exc.args else str(exc), exc.detail, exc.hint), file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        diag = exc.diag
        message = diag.message_primary or str(exc)
        print(_error(diag.sqlstate, message, diag.message_detail, diag.message_hint), file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
