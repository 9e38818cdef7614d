"""JDBC (PgJDBC, Debian's libpostgresql-jdbc-java) against idsql: the shared calls and errors in full.

``executeUpdate`` returns the row count Hibernate's ``@Version`` check reads; errors are read with
``PSQLException.getServerErrorMessage()``. ``make system-deps`` installs the driver; the JDK is
the machine's. Without them this test fails and says so: it is never skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from .conftest import CALLS, ERRORS, FINAL, row_versions

JAVA_DIR = Path(__file__).parent / "java"
JDBC_JAR = Path("/usr/share/java/postgresql.jar")


@contextmanager
def _tcp(host: str, port: int) -> Iterator[tuple[str, int]]:
    """Where JDBC can reach the server: itself over TCP, or a byte relay to its Unix socket.

    PgJDBC speaks TCP only; the embedded PostgreSQL 18 of the suite listens on a socket. The relay
    copies bytes both ways and nothing else, so the driver talks to the real server.
    """
    if not host.startswith("/"):
        yield host, port
        return
    path = str(Path(host) / f".s.PGSQL.{port}")
    listener = socket.create_server(("127.0.0.1", 0))

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.socket(socket.AF_UNIX)
                server.connect(path)
                threading.Thread(target=pump, args=(client, server), daemon=True).start()
                threading.Thread(target=pump, args=(server, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield "127.0.0.1", listener.getsockname()[1]
    finally:
        listener.close()


def test_jdbc_calls_row_counts_and_errors(
    client_dsn: str, reference_errors: dict[str, Any], reference_calls: list[str], tmp_path: Path
) -> None:
    javac, java = shutil.which("javac"), shutil.which("java")
    assert javac is not None and java is not None, "no JDK on PATH (Debian: default-jdk-headless)"
    assert JDBC_JAR.is_file(), f"no {JDBC_JAR}: run make system-deps (Debian: libpostgresql-jdbc-java)"
    subprocess.run(
        [javac, "-cp", str(JDBC_JAR), "-d", str(tmp_path), str(JAVA_DIR / "Client.java")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    p = conninfo_to_dict(client_dsn)
    with _tcp(p.get("host", "localhost"), int(p.get("port", 5432))) as (host, port):
        url = f"jdbc:postgresql://{host}:{port}/{p['dbname']}"
        run = subprocess.run(
            [java, "-cp", f"{JDBC_JAR}:{tmp_path}", "Client", url, p.get("user", ""), *ERRORS.values()],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "IDSQL_CALLS": "\n".join(s for _, s in CALLS)},
        )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["first"], out["update"], out["batch"], out["generated"]) == ("ACC-AAA0001", 1, 3, "ACC-AAA0005")
    assert out["bulk"] == [1000, 1000, "BLK-AAA0001", "BLK-AAA1000"]
    assert (out["noop"], out["noop_returning"]) == (4, 4)
    assert dict(zip(ERRORS, (tuple(e) for e in out["errors"]), strict=True)) == reference_errors
    assert out["calls"] == reference_calls
    assert row_versions(client_dsn) == FINAL
