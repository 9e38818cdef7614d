"""The soak report: sections that long runs (``make soak``) write for a person to read.

``PYIDSQL_SOAK_REPORT`` names the file (``make soak`` sets it and prints the file at the end);
without it the sections go to stdout, which pytest shows with ``-s`` or on failure.
``PYIDSQL_SOAK=1`` turns the quick versions of the load and crash tests into the long ones.
"""

from __future__ import annotations

import datetime
import os

SOAK = os.environ.get("PYIDSQL_SOAK", "") not in ("", "0")
# How long the whole soak runs (make soak sets it); each long test takes its share.
SECONDS = float(os.environ.get("PYIDSQL_SOAK_SECONDS", "600"))


def report(title: str, lines: list[str]) -> None:
    """Append a section to the soak report (or print it)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([f"## {title} ({stamp})", *lines, ""]) + "\n"
    path = os.environ.get("PYIDSQL_SOAK_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)
    else:
        print(text)
