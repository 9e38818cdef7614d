"""Exit 0 when PostgreSQL 15 starts with each named library preloaded; else list those that fail.

``make engine-deps`` runs it before and after installing the vendored builds: a library can be on
disk and still not load (built against another minor release of the server).
Usage: python tests/engines/loadcheck.py citus pg_tle
"""

from __future__ import annotations

import sys

from engines import PG15

from pyidsql.tooling.pgserver import NoServer, local_cluster


def main(names: list[str]) -> int:
    failing = []
    for name in names:
        if not (PG15 / "lib" / f"{name}.so").is_file():
            failing.append(f"{name}: not installed")
            continue
        try:
            with local_cluster(PG15 / "bin", {"shared_preload_libraries": name}):
                pass
        except NoServer as exc:
            reason = next((line for line in str(exc).splitlines() if "FATAL" in line), str(exc).splitlines()[-1])
            failing.append(f"{name}: {reason.split('FATAL:')[-1].strip()}")
    for line in failing:
        print(f"engine-deps: {line}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
