"""Fixtures for the Citus tests: a Citus 13 cluster on localhost, a coordinator and two workers.

Every node preloads ``citus`` and has the extension in the database ``app``; the coordinator is in
its own metadata (so reference tables have a placement there) and the workers are added to it.
idsql is installed on the coordinator with ``pyidsql install``, as a user of an existing cluster
would (see docs/citus.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from engines import PG15, require_library
from psycopg.conninfo import make_conninfo

import pyidsql.install
from pyidsql._pgserver import PgServer, local_cluster

DBNAME = "app"

# Citus talks to the other nodes over loopback as the same user; the throwaway clusters trust it.
SETTINGS = {
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
        return (node or self.coordinator).conninfo(DBNAME)

    def connect(self, node: PgServer | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(node), **kwargs)


def _node_dsn(server: PgServer) -> str:
    return make_conninfo(host=server.host, port=server.port, user=server.user, dbname=DBNAME)


@contextmanager
def citus_cluster(bindir: Path, workers: int = 2) -> Iterator[Cluster]:
    """Start a coordinator and *workers* workers from *bindir*; stop and delete them afterwards."""
    with ExitStack() as stack:
        nodes = [stack.enter_context(local_cluster(bindir, SETTINGS)) for _ in range(workers + 1)]
        for node in nodes:
            with psycopg.connect(node.conninfo("postgres"), autocommit=True) as c:
                c.execute(f"CREATE DATABASE {DBNAME}")
            with psycopg.connect(_node_dsn(node), autocommit=True) as c:
                c.execute("CREATE EXTENSION citus")
        coordinator, *rest = nodes
        with psycopg.connect(_node_dsn(coordinator), autocommit=True) as c:
            c.execute("SELECT citus_set_coordinator_host(%s, %s)", (coordinator.host, coordinator.port))
            for worker in rest:
                c.execute("SELECT citus_add_node(%s, %s)", (worker.host, worker.port))
        yield Cluster(coordinator, tuple(rest))


@pytest.fixture(scope="session")
def citus() -> Iterator[Cluster]:
    """A coordinator and two workers with idsql installed on the coordinator (``pyidsql install``)."""
    require_library("citus")
    with citus_cluster(PG15 / "bin") as cluster:
        with cluster.connect(autocommit=True) as c:
            pyidsql.install.install(c)
        yield cluster
