from typing import Any


def test_cluster_has_two_workers(citus: Any) -> None:
    with citus.connect(autocommit=True) as c:
        assert c.execute("SELECT count(*) FROM citus_get_active_worker_nodes()").fetchone() == (2,)
