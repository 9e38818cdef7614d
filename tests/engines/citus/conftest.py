"""Fixtures for the Citus tests: a Citus 13 cluster on localhost, a coordinator and two workers.

Every node preloads ``citus`` and has the extension in the database ``app``; the coordinator is in
its own metadata (so reference tables have a placement there) and the workers are added to it.
idsql is installed on the coordinator with ``pyidsql install``, as a user of an existing cluster
would (see docs/citus.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engines import PG15, require_library

import pyidsql.install
from pyidsql.tooling.pgserver import Cluster, citus_cluster


@pytest.fixture(scope="session")
def citus() -> Iterator[Cluster]:
    """A coordinator and two workers with idsql installed on the coordinator (``pyidsql install``)."""
    require_library("citus")
    with citus_cluster(PG15 / "bin") as cluster:
        with cluster.connect(autocommit=True) as c:
            pyidsql.install.install(c)
        yield cluster
