"""The SQL of every how-to guide runs, top to bottom, on a fresh database with idsql installed.

Convention of the guides in ``docs/howto/``:

- A block fenced as ```` ```sql ```` is run: all the blocks of one guide, in order, each sent as
  one string on one autocommit connection to a fresh clone of the idsql template. A guide's SQL
  must therefore work top to bottom in one database, creating the tables it needs. A block of
  several statements is sent in one simple-protocol query, so it is one transaction (as with
  ``psql -c``); the guides rely on that where a transaction is one version.
- Anything that must not be run (an expected error with its real output, shell, psql output) is
  fenced with another language: ```` ```text ````, ```` ```sh ````, ```` ```python ````.
- A ```` ```sql ```` block right after the line ``<!-- howto: skip -->`` is shown but not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

HOWTO_DIR = Path(__file__).resolve().parent.parent / "docs" / "howto"
GUIDES = sorted(p for p in HOWTO_DIR.glob("*.md") if p.name != "README.md")
SKIP_MARKER = "<!-- howto: skip -->"
BLOCK = re.compile(r"^```(?P<lang>[A-Za-z0-9_-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


def sql_blocks(text: str) -> list[str]:
    """Return the ```sql blocks of a guide, in order, without those marked to skip."""
    blocks = []
    for match in BLOCK.finditer(text):
        if match.group("lang") != "sql":
            continue
        before = text[: match.start()].rstrip()
        if before.endswith(SKIP_MARKER):
            continue
        blocks.append(match.group("body"))
    return blocks


def test_howtos_exist() -> None:
    """Check that there are guides and each has SQL to run."""
    assert len(GUIDES) >= 4
    for guide in GUIDES:
        assert sql_blocks(guide.read_text()), f"{guide.name} has no ```sql block"


@pytest.mark.parametrize("guide", GUIDES, ids=[p.stem for p in GUIDES])
def test_howto_sql_runs(guide: Path, dsn: str) -> None:
    """Run every ```sql block of a guide in order; any error fails the guide."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for number, block in enumerate(sql_blocks(guide.read_text()), start=1):
            try:
                conn.execute(block)  # type: ignore[arg-type]
            except psycopg.Error as exc:
                pytest.fail(f"{guide.name}, SQL block {number} failed: {exc}\n{block}")
