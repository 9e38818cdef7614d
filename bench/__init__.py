"""``make bench``: idsql measured side by side with the bare SQL it replaces; writes BENCHMARKS.md."""
