"""Fuzzed prefixes and IDs: every outcome is a right answer or an ID/22 error, never another code or NULL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import idref
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PREFIX_RE = re.compile(r"[A-Z_][A-Z0-9_]{0,19}")
ID_RE = re.compile(r"([A-Z_][A-Z0-9_]{0,19})-([A-Z]+)([0-9]{4})")

ALPHABET = st.characters(codec="utf-8", exclude_characters="\x00")
NEAR = st.sampled_from(list("ABCZaz09_- \t\n-éŽ'\";%\\"))


def mutate(base: str) -> st.SearchStrategy[str]:
    """Texts one or two edits away from a valid ID or prefix: the inputs most likely to slip through."""
    positions = st.integers(min_value=0, max_value=len(base))
    edit = st.tuples(st.sampled_from(["insert", "delete", "replace"]), positions, NEAR)

    def apply(edits: list[tuple[str, int, str]]) -> str:
        text = base
        for kind, pos, ch in edits:
            pos = min(pos, len(text))
            if kind == "insert":
                text = text[:pos] + ch + text[pos:]
            elif kind == "delete":
                text = text[:pos] + text[pos + 1 :]
            else:
                text = text[:pos] + ch + text[pos + 1 :]
        return text

    return st.lists(edit, min_size=1, max_size=2).map(apply)


PREFIXES = st.one_of(
    st.text(ALPHABET, max_size=25),
    st.from_regex(PREFIX_RE, fullmatch=True),
    mutate("CUS"),
    mutate("_HEALTH_CHECK_"),
    st.just("A" * 21),
)
IDS = st.one_of(
    st.text(ALPHABET, max_size=30),
    mutate("CUS-AAA0001"),
    mutate("INV-ZZZ9999"),
    mutate("WH-AAAA0010"),
    st.builds(lambda n: idref.format_id("CUS", n), st.integers(min_value=1, max_value=2**63 - 1)),
    st.just("CUS-" + "Z" * 14 + "9999"),
)

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def db(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def call(db: psycopg.Connection[Any], query: Any, params: tuple[Any, ...]) -> tuple[Any, str | None]:
    """Return (value, None) or (None, SQLSTATE); fail on any other code."""
    try:
        row = db.execute(query, params).fetchone()
    except psycopg.Error as exc:
        code = exc.sqlstate or ""
        assert code[:2] in ("ID", "22"), f"{query} {params!r} raised {code}: {exc}"
        return None, code
    assert row is not None
    return row[0], None


@FUZZ
@given(prefix=PREFIXES)
def test_fuzz_prefix_functions(db: psycopg.Connection[Any], prefix: str) -> None:
    valid = PREFIX_RE.fullmatch(prefix) is not None
    for query, params in [
        ("SELECT idsql.current_id(%s)", (prefix,)),
        ("SELECT idsql.generate_id(%s)", (prefix,)),
        ("SELECT idsql.format_id(%s, 10000)", (prefix,)),
        ("SELECT count(*) FROM idsql.bulk_generate_ids(%s, 2)", (prefix,)),
        ("SELECT idsql.configure_prefix(%s, 'fast')", (prefix,)),
        ("SELECT idsql.reset_sequence(%s, NULL)", (prefix,)),
    ]:
        value, code = call(db, query, params)
        if valid:
            assert code is None, f"{query} refused the valid prefix {prefix!r}: {code}"
        else:
            assert code == "ID001", f"{query} accepted the invalid prefix {prefix!r}: {value!r}"
        if query.startswith("SELECT idsql.generate_id") and valid:
            assert value == f"{prefix}-AAA0001"
        if query.startswith("SELECT idsql.format_id") and valid:
            assert value == f"{prefix}-AAB0001"
    stored = db.execute("SELECT array_agg(prefix) FROM idsql.prefix_counter").fetchone()
    assert stored is not None
    assert all(PREFIX_RE.fullmatch(p) for p in stored[0] or [])
    db.execute("TRUNCATE idsql.prefix_counter")


@FUZZ
@given(text=IDS)
def test_fuzz_id_functions(db: psycopg.Connection[Any], text: str) -> None:
    match = ID_RE.fullmatch(text)
    expected_ordinal = None
    if match and int(match[3]) > 0 and len(match[2]) >= 3:
        ordinal = idref.ordinal_of(match[2], int(match[3]))
        expected_ordinal = ordinal if ordinal < 2**63 else None

    valid, code = call(db, "SELECT idsql.is_valid_id(%s)", (text,))
    assert code is None and valid is not None, "is_valid_id must never raise or return NULL"
    assert valid is (expected_ordinal is not None), f"is_valid_id({text!r}) = {valid}"

    row, code = call(db, "SELECT (idsql.parse_id(%s)).ordinal", (text,))
    if expected_ordinal is None:
        assert code == "ID002", f"parse_id accepted {text!r}"
    else:
        assert row == expected_ordinal

    following, code = call(db, "SELECT idsql.increment_id(%s)", (text,))
    if expected_ordinal is None:
        assert code == "ID002"
    elif expected_ordinal == 2**63 - 1:
        assert code == "22003"
    else:
        assert match is not None
        assert following == idref.format_id(match[1], expected_ordinal + 1)

    fixed, code = call(db, "SELECT idsql.normalize_id(%s)", (text,))
    if code is None:
        assert fixed is not None
        assert ID_RE.fullmatch(fixed), f"normalize_id({text!r}) = {fixed!r}"
        assert fixed.replace("-", "").lstrip("_") != ""
        # only case, surrounding white space and zero padding may change: nothing else
        squeezed = text.strip().upper()
        fixed_match = ID_RE.fullmatch(fixed)
        assert fixed_match is not None
        assert squeezed.startswith(f"{fixed_match[1]}-{fixed_match[2]}")
        assert int(squeezed[len(fixed_match[1]) + 1 + len(fixed_match[2]) :]) == int(fixed_match[3])
    else:
        assert code == "ID002"
    if expected_ordinal is not None:
        assert fixed == text, "a canonical ID must normalize to itself"


@FUZZ
@given(prefix=PREFIXES, text=IDS)
def test_fuzz_reset_sequence(db: psycopg.Connection[Any], prefix: str, text: str) -> None:
    _, code = call(db, "SELECT idsql.reset_sequence(%s, %s)", (prefix, text))
    if code is None:
        value, code = call(db, "SELECT idsql.generate_id(%s)", (prefix,))
        assert code is None
        match = ID_RE.fullmatch(text)
        assert match is not None and match[1] == prefix
        assert value == idref.format_id(prefix, idref.ordinal_of(match[2], int(match[3])) + 1)
    else:
        assert code in ("ID001", "ID002", "ID003", "22003")
    db.execute("TRUNCATE idsql.prefix_counter")
