"""Every code example of the client how-tos is code a client test runs, verbatim.

docs/howto/{django,sqlalchemy,node,java}.md show Python, JavaScript and Java taken from the
client tests; this test finds each block, line for line (indentation aside), in the files those
tests run, so an example cannot drift from what is run. Their SQL runs in tests/test_howtos.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GUIDES = {
    "django.md": [HERE / "billing" / "models.py", HERE / "test_django.py"],
    "sqlalchemy.md": [HERE / "test_sqlalchemy_orm.py"],
    "node.md": [HERE / "node" / "client.js"],
    "java.md": [HERE / "java" / "Client.java"],
}
LANGUAGES = {"python", "js", "java"}


def _blocks(text: str) -> list[list[str]]:
    blocks, current, language = [], None, ""
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                language, current = line[3:].strip(), []
            else:
                if language in LANGUAGES:
                    blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _lines(lines: list[str]) -> list[str]:
    return [s for s in (line.strip() for line in lines) if s]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


@pytest.mark.parametrize("guide", list(GUIDES))
def test_every_example_is_run_by_a_client_test(guide: str) -> None:
    blocks = _blocks((ROOT / "docs" / "howto" / guide).read_text())
    assert blocks, f"{guide} has no example"
    sources = [_lines(p.read_text().splitlines()) for p in GUIDES[guide]]
    missing = [b for b in blocks if not any(_contains(s, _lines(b)) for s in sources)]
    assert missing == [], f"{guide}: examples not found in {[p.name for p in GUIDES[guide]]}"
