"""Prefixed IDs: behaviour of every idsql function, through the Python wrappers and raw SQL."""

from __future__ import annotations

from typing import Any

import idref
import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors as pg_errors
from sqlalchemy.orm import Session

import pyidsql
import pyidsql.aio
from pyidsql import errors
from pyidsql.sa import prefixed_id_default

Conn = psycopg.Connection[Any]

BOUNDARIES = [
    # ordinal, ID: every place where the letters or the width change
    (1, "CUS-AAA0001"),
    (9999, "CUS-AAA9999"),
    (10000, "CUS-AAB0001"),
    (9999 * 26, "CUS-AAZ9999"),
    (9999 * 26 + 1, "CUS-ABA0001"),
    (9999 * 17576, "CUS-ZZZ9999"),
    (9999 * 17576 + 1, "CUS-AAAA0001"),
    (9999 * (17576 + 456976), "CUS-ZZZZ9999"),
    (9999 * (17576 + 456976) + 1, "CUS-AAAAA0001"),
]


def scalar(conn: Conn, query: Any, params: Any = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


# -- format_id / parse_id / increment_id: the boundary table ---------------------------------


@pytest.mark.parametrize(("ordinal", "expected"), BOUNDARIES)
def test_format_id_boundary_table(conn: Conn, ordinal: int, expected: str) -> None:
    assert pyidsql.format_id(conn, "CUS", ordinal) == expected
    assert idref.format_id("CUS", ordinal) == expected


@pytest.mark.parametrize(("ordinal", "expected"), BOUNDARIES)
def test_parse_id_boundary_table(conn: Conn, ordinal: int, expected: str) -> None:
    parsed = pyidsql.parse_id(conn, expected)
    assert parsed.ordinal == ordinal
    assert parsed.prefix == "CUS"
    assert f"CUS-{parsed.letters}{parsed.number:04d}" == expected


@pytest.mark.parametrize(("ordinal", "expected"), BOUNDARIES[:-1])
def test_increment_id_boundary_table(conn: Conn, ordinal: int, expected: str) -> None:
    following = dict(BOUNDARIES).get(ordinal + 1) or idref.format_id("CUS", ordinal + 1)
    assert pyidsql.increment_id(conn, expected) == following


def test_generate_id_crosses_every_boundary(conn: Conn) -> None:
    for last, nxt in [
        ("CUS-AAA9999", "CUS-AAB0001"),
        ("CUS-ZZZ9999", "CUS-AAAA0001"),
        ("CUS-ZZZZ9999", "CUS-AAAAA0001"),
    ]:
        pyidsql.reset_sequence(conn, "CUS", last)
        assert pyidsql.generate_id(conn, "CUS") == nxt
        assert pyidsql.current_id(conn, "CUS") == nxt


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    ordinal=st.integers(min_value=1, max_value=2**63 - 1),
    digits=st.integers(min_value=1, max_value=9),
    min_letters=st.integers(min_value=1, max_value=8),
)
def test_format_id_parse_id_round_trip(conn: Conn, ordinal: int, digits: int, min_letters: int) -> None:
    text = pyidsql.format_id(conn, "P_1", ordinal, digits=digits, min_letters=min_letters)
    assert text == idref.format_id("P_1", ordinal, digits, min_letters)
    parsed = pyidsql.parse_id(conn, text, digits=digits, min_letters=min_letters)
    assert parsed.ordinal == ordinal
    assert idref.ordinal_of(parsed.letters, parsed.number, digits, min_letters) == ordinal
    assert pyidsql.is_valid_id(conn, text, "P_1", digits=digits, min_letters=min_letters)


def test_format_id_rejects_ordinals_below_one(conn: Conn) -> None:
    for bad in (0, -1):
        with pytest.raises(pg_errors.NumericValueOutOfRange), conn.transaction():
            pyidsql.format_id(conn, "CUS", bad)
    with pytest.raises(pg_errors.NullValueNotAllowed), conn.transaction():
        conn.execute("SELECT idsql.format_id('CUS', NULL)")


def test_increment_id_refuses_the_last_bigint_ordinal(conn: Conn) -> None:
    last = pyidsql.format_id(conn, "CUS", 2**63 - 1)
    with pytest.raises(pg_errors.NumericValueOutOfRange), conn.transaction():
        pyidsql.increment_id(conn, last)


def test_format_id_with_custom_width(conn: Conn) -> None:
    assert pyidsql.format_id(conn, "WH", 1, digits=6, min_letters=2) == "WH-AA000001"
    assert pyidsql.format_id(conn, "WH", 999999, digits=6, min_letters=2) == "WH-AA999999"
    assert pyidsql.format_id(conn, "WH", 1000000, digits=6, min_letters=2) == "WH-AB000001"
    with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
        pyidsql.format_id(conn, "WH", 1, digits=10)
    with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
        pyidsql.format_id(conn, "WH", 1, min_letters=0)


# -- generate_id ----------------------------------------------------------------------------


def test_generate_id_starts_at_aaa0001_and_counts_per_prefix(conn: Conn) -> None:
    assert pyidsql.generate_id(conn, "CUS") == "CUS-AAA0001"
    assert pyidsql.generate_id(conn, "CUS") == "CUS-AAA0002"
    assert pyidsql.generate_id(conn, "VEN") == "VEN-AAA0001"
    assert pyidsql.generate_id(conn, "_HEALTH_CHECK_") == "_HEALTH_CHECK_-AAA0001"


def test_generate_id_from_raw_sql(conn: Conn) -> None:
    assert scalar(conn, "SELECT idsql.generate_id('PUR')") == "PUR-AAA0001"
    assert scalar(conn, "SELECT idsql.generate_id(prefix => 'PUR')") == "PUR-AAA0002"


def test_generate_id_invalid_prefixes(conn: Conn) -> None:
    for bad in ["cus", "CU-S", "", " CUS", "1CUS", "ÇUS", "A" * 21, "CUS ", "C;S"]:
        with pytest.raises(errors.InvalidPrefix) as excinfo, conn.transaction():
            pyidsql.generate_id(conn, bad)
        assert excinfo.value.__cause__.sqlstate == "ID001"  # type: ignore[union-attr]
        assert excinfo.value.hint and "for example CUS" in excinfo.value.hint
        assert excinfo.value.detail
    with pytest.raises(psycopg.Error) as raw, conn.transaction():
        conn.execute("SELECT idsql.generate_id(NULL)")
    assert raw.value.sqlstate == "ID001"
    assert pyidsql.generate_id(conn, "A" * 20) == "A" * 20 + "-AAA0001"
    assert scalar(conn, "SELECT count(*) FROM idsql.prefix_counter") == 1


def test_generate_id_uses_the_prefix_format(conn: Conn) -> None:
    pyidsql.configure_prefix(conn, "WH", digits=6, min_letters=2)
    assert pyidsql.generate_id(conn, "WH") == "WH-AA000001"


def test_generate_id_rollback_gives_the_number_back(connect: Any) -> None:
    c = connect()
    assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
    c.rollback()
    assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
    c.commit()
    assert pyidsql.current_id(c, "CUS") == "CUS-AAA0001"


def test_generate_id_fast_mode_rollback_leaves_a_hole(connect: Any) -> None:
    c = connect()
    pyidsql.configure_prefix(c, "FST", mode="fast")
    c.commit()
    assert pyidsql.generate_id(c, "FST") == "FST-AAA0001"
    c.rollback()
    assert pyidsql.generate_id(c, "FST") == "FST-AAA0002"


# -- bulk_generate_ids ----------------------------------------------------------------------


def test_bulk_generate_ids_returns_consecutive_ids(conn: Conn) -> None:
    ids = pyidsql.bulk_generate_ids(conn, "INV", 10)
    assert ids == [f"INV-AAA{n:04d}" for n in range(1, 11)]
    assert pyidsql.generate_id(conn, "INV") == "INV-AAA0011"


def test_bulk_generate_ids_across_blocks(conn: Conn) -> None:
    pyidsql.reset_sequence(conn, "INV", "INV-ZZZ9990")
    ids = pyidsql.bulk_generate_ids(conn, "INV", 20020)
    expected = [idref.format_id("INV", 9999 * 17576 - 9 + i) for i in range(1, 20021)]
    assert ids == expected
    assert ids[9] == "INV-AAAA0001"
    assert pyidsql.current_id(conn, "INV") == ids[-1]


def test_bulk_generate_ids_fast_mode(conn: Conn) -> None:
    pyidsql.configure_prefix(conn, "FST", mode="fast")
    pyidsql.reset_sequence(conn, "FST", "FST-AAA9998")
    assert pyidsql.bulk_generate_ids(conn, "FST", 3) == ["FST-AAA9999", "FST-AAB0001", "FST-AAB0002"]
    assert pyidsql.current_id(conn, "FST") == "FST-AAB0002"


def test_bulk_generate_ids_count_limits(conn: Conn) -> None:
    for bad in (0, -5, 10_000_001):
        with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
            pyidsql.bulk_generate_ids(conn, "INV", bad)
    with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
        conn.execute("SELECT idsql.bulk_generate_ids('INV', NULL)")
    with pytest.raises(errors.InvalidPrefix), conn.transaction():
        pyidsql.bulk_generate_ids(conn, "inv", 3)
    assert pyidsql.current_id(conn, "INV") is None


# -- current_id / reset_sequence ------------------------------------------------------------


def test_current_id_never_consumes(conn: Conn) -> None:
    assert pyidsql.current_id(conn, "CUS") is None
    pyidsql.generate_id(conn, "CUS")
    assert pyidsql.current_id(conn, "CUS") == "CUS-AAA0001"
    assert pyidsql.current_id(conn, "CUS") == "CUS-AAA0001"
    assert pyidsql.generate_id(conn, "CUS") == "CUS-AAA0002"
    with pytest.raises(errors.InvalidPrefix), conn.transaction():
        pyidsql.current_id(conn, "c")


def test_reset_sequence_original_scenario(conn: Conn) -> None:
    pyidsql.reset_sequence(conn, "TEST", "TEST-ZZZ9999")
    assert pyidsql.generate_id(conn, "TEST") == "TEST-AAAA0001"
    pyidsql.reset_sequence(conn, "TEST", None)
    assert pyidsql.current_id(conn, "TEST") is None
    assert pyidsql.generate_id(conn, "TEST") == "TEST-AAA0001"


def test_reset_sequence_rejects_foreign_and_invalid_ids(conn: Conn) -> None:
    pyidsql.generate_id(conn, "CUS")
    with pytest.raises(errors.PrefixMismatch) as excinfo, conn.transaction():
        pyidsql.reset_sequence(conn, "CUS", "VEN-AAA0005")
    assert "VEN" in (excinfo.value.detail or "")
    with pytest.raises(errors.InvalidId), conn.transaction():
        pyidsql.reset_sequence(conn, "CUS", "CUS-AAA000")
    assert pyidsql.generate_id(conn, "CUS") == "CUS-AAA0002"


def test_reset_sequence_fast_mode(conn: Conn) -> None:
    pyidsql.configure_prefix(conn, "FST", mode="fast")
    pyidsql.reset_sequence(conn, "FST", "FST-AAA9999")
    assert pyidsql.generate_id(conn, "FST") == "FST-AAB0001"
    pyidsql.reset_sequence(conn, "FST", None)
    assert pyidsql.current_id(conn, "FST") is None
    assert pyidsql.generate_id(conn, "FST") == "FST-AAA0001"


# -- configure_prefix -----------------------------------------------------------------------


def test_configure_prefix_mode_switch_continues_the_sequence(conn: Conn) -> None:
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0001"
    pyidsql.configure_prefix(conn, "SW", mode="fast")
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0002"
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0003"
    pyidsql.configure_prefix(conn, "SW", mode="gapless")
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0004"
    pyidsql.configure_prefix(conn, "SW", mode="fast")
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0005"
    assert [s.mode for s in pyidsql.prefix_stats(conn)] == ["fast"]


def test_configure_prefix_capped_sequence_refuses_a_late_fast_caller(conn: Conn) -> None:
    pyidsql.configure_prefix(conn, "SW", mode="fast")
    pyidsql.generate_id(conn, "SW")
    seq = scalar(conn, "SELECT fast_seq::text FROM idsql.prefix_counter WHERE prefix = 'SW'")
    pyidsql.configure_prefix(conn, "SW", mode="gapless")
    # A caller that read "fast" just before the switch would call nextval now: it must fail,
    # not hand out SW-AAA0002, which the gapless counter issues next.
    with pytest.raises(pg_errors.SequenceGeneratorLimitExceeded), conn.transaction():
        conn.execute(psycopg.sql.SQL("SELECT nextval({})").format(psycopg.sql.Literal(seq)))
    assert pyidsql.generate_id(conn, "SW") == "SW-AAA0002"


def test_configure_prefix_format_locked_after_first_id(conn: Conn) -> None:
    pyidsql.configure_prefix(conn, "WH", digits=6)
    pyidsql.configure_prefix(conn, "WH", digits=5)  # nothing issued yet: allowed
    assert pyidsql.generate_id(conn, "WH") == "WH-AAA00001"
    with pytest.raises(errors.FormatLocked) as excinfo, conn.transaction():
        pyidsql.configure_prefix(conn, "WH", digits=4)
    assert "WH-AAA00001" in (excinfo.value.detail or "")
    pyidsql.configure_prefix(conn, "WH", mode="fast", digits=5)  # same format: fine
    pyidsql.reset_sequence(conn, "WH", None)
    pyidsql.configure_prefix(conn, "WH", digits=4)
    assert pyidsql.generate_id(conn, "WH") == "WH-AAA0001"


def test_configure_prefix_invalid_arguments(conn: Conn) -> None:
    cases: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"mode": "quick"}, pg_errors.InvalidParameterValue),
        ({"mode": None}, pg_errors.InvalidParameterValue),
        ({"digits": 0}, pg_errors.InvalidParameterValue),
        ({"digits": 10}, pg_errors.InvalidParameterValue),
        ({"min_letters": 9}, pg_errors.InvalidParameterValue),
    ]
    for kwargs, exc in cases:
        with pytest.raises(exc), conn.transaction():
            pyidsql.configure_prefix(conn, "CUS", **kwargs)
    with pytest.raises(errors.InvalidPrefix), conn.transaction():
        pyidsql.configure_prefix(conn, "cus")
    assert pyidsql.prefix_stats(conn) == []


# -- sync_prefix ----------------------------------------------------------------------------


def test_sync_prefix_moves_forward_never_back(conn: Conn) -> None:
    conn.execute("CREATE TABLE customer (id text PRIMARY KEY)")
    conn.execute(
        "INSERT INTO customer VALUES ('CUS-AAA0007'), ('CUS-AAB0002'), ('CUS-ZZ0001'),"
        " ('VEN-ZZZ9999'), ('CUS-AAA0010'), ('CUSX-AAA0001')"
    )
    assert pyidsql.sync_prefix(conn, "CUS", "customer", "id") == "CUS-AAB0002"
    assert pyidsql.generate_id(conn, "CUS") == "CUS-AAB0003"
    conn.execute("DELETE FROM customer WHERE id = 'CUS-AAB0002'")
    assert pyidsql.sync_prefix(conn, "CUS", "customer", "id") == "CUS-AAB0003"
    assert pyidsql.sync_prefix(conn, "NEW", "customer", "id") is None


def test_sync_prefix_orders_by_ordinal_not_text(conn: Conn) -> None:
    conn.execute('CREATE TABLE "Mixed Case" ("Id Col" varchar(20))')
    conn.execute("""INSERT INTO "Mixed Case" VALUES ('CUS-ZZZ9999'), ('CUS-AAAA0002')""")
    assert pyidsql.sync_prefix(conn, "CUS", '"Mixed Case"', "Id Col") == "CUS-AAAA0002"


def test_sync_prefix_fast_mode(conn: Conn) -> None:
    conn.execute("CREATE TABLE t (id text)")
    conn.execute("INSERT INTO t VALUES ('FST-AAC0001')")
    pyidsql.configure_prefix(conn, "FST", mode="fast")
    assert pyidsql.sync_prefix(conn, "FST", "t", "id") == "FST-AAC0001"
    assert pyidsql.generate_id(conn, "FST") == "FST-AAC0002"


def test_sync_prefix_bad_arguments(conn: Conn) -> None:
    conn.execute("CREATE TABLE t (id text, n integer)")
    with pytest.raises(pg_errors.UndefinedTable), conn.transaction():
        pyidsql.sync_prefix(conn, "CUS", "missing_table", "id")
    with pytest.raises(pg_errors.UndefinedColumn), conn.transaction():
        pyidsql.sync_prefix(conn, "CUS", "t", 'id"; DROP TABLE t; --')
    with pytest.raises(pg_errors.DatatypeMismatch), conn.transaction():
        pyidsql.sync_prefix(conn, "CUS", "t", "n")
    with pytest.raises(pg_errors.NullValueNotAllowed), conn.transaction():
        conn.execute("SELECT idsql.sync_prefix('CUS', NULL, 'id')")
    assert scalar(conn, "SELECT to_regclass('t') IS NOT NULL")


# -- prefix_stats / id_health_check ---------------------------------------------------------


def test_prefix_stats_reports_each_prefix(conn: Conn) -> None:
    pyidsql.bulk_generate_ids(conn, "INV", 12)
    pyidsql.reset_sequence(conn, "CUS", "CUS-ZZZ9998")
    pyidsql.configure_prefix(conn, "FST", mode="fast")
    stats = {s.prefix: s for s in pyidsql.prefix_stats(conn)}
    assert set(stats) == {"CUS", "FST", "INV"}
    assert (stats["INV"].last_id, stats["INV"].issued) == ("INV-AAA0012", 12)
    assert stats["INV"].capacity_left_in_width == 9999 * 17576 - 12
    assert stats["CUS"].capacity_left_in_width == 1
    assert (stats["FST"].mode, stats["FST"].last_id, stats["FST"].issued) == ("fast", None, 0)
    pyidsql.generate_id(conn, "CUS")
    pyidsql.generate_id(conn, "CUS")
    cus = next(s for s in pyidsql.prefix_stats(conn) if s.prefix == "CUS")
    assert (cus.last_id, cus.capacity_left_in_width) == ("CUS-AAAA0001", 9999 * 456976 - 1)


CATALOG_SNAPSHOT = """
SELECT (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.prefix), '[]') FROM idsql.prefix_counter c),
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'idsql'::regnamespace)
"""


def test_id_health_check_leaves_nothing_behind(conn: Conn) -> None:
    pyidsql.generate_id(conn, "CUS")
    before = conn.execute(CATALOG_SNAPSHOT).fetchone()
    report = pyidsql.id_health_check(conn)
    assert report["status"] == "healthy"
    assert report["test_id_generated"] == "_HEALTH_CHECK_-AAA0001"
    assert report["prefix_count"] == 1
    assert set(report) == {"status", "message", "prefix_count", "test_id_generated", "timestamp"}
    assert report["timestamp"].endswith("Z")
    assert conn.execute(CATALOG_SNAPSHOT).fetchone() == before
    assert pyidsql.id_health_check(conn)["test_id_generated"] == "_HEALTH_CHECK_-AAA0001"


def test_id_health_check_reports_failure_instead_of_raising(connect: Any) -> None:
    c = connect()
    c.execute("SET TRANSACTION READ ONLY")
    report = pyidsql.id_health_check(c)
    assert report["status"] == "unhealthy"
    assert "25006" in report["message"]


# -- is_valid_id / normalize_id ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefix", "valid"),
    [
        ("CUS-AAA0001", None, True),
        ("CUS-AAA0001", "CUS", True),
        ("CUS-AAA0001", "VEN", False),
        ("CUS-AAA0000", None, False),
        ("CUS-AA0001", None, False),
        ("CUS-AAA00001", None, False),
        ("CUS-AAA001", None, False),
        ("cus-AAA0001", None, False),
        ("CUS-aaa0001", None, False),
        ("CUSAAA0001", None, False),
        ("CUS-AAA0001 ", None, False),
        ("-AAA0001", None, False),
        ("CUS--AAA0001", None, False),
        ("CUS-" + "Z" * 30 + "0001", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_is_valid_id(conn: Conn, text: str | None, prefix: str | None, valid: bool) -> None:
    assert pyidsql.is_valid_id(conn, text, prefix) is valid


def test_is_valid_id_in_a_check_constraint(conn: Conn) -> None:
    conn.execute("CREATE TABLE customer (id text PRIMARY KEY CHECK (idsql.is_valid_id(id, 'CUS')))")
    conn.execute("INSERT INTO customer VALUES (idsql.generate_id('CUS'))")
    with pytest.raises(pg_errors.CheckViolation), conn.transaction():
        conn.execute("INSERT INTO customer VALUES ('VEN-AAA0001')")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" cus-aab12", "CUS-AAB0012"),
        ("CUS-AAA0001", "CUS-AAA0001"),
        ("\tinv-zzz9999\n", "INV-ZZZ9999"),
        ("cus-aaa000000042", "CUS-AAA0042"),
        ("_health_check_-aaa1", "_HEALTH_CHECK_-AAA0001"),
    ],
)
def test_normalize_id_corrects_format(conn: Conn, text: str, expected: str) -> None:
    assert pyidsql.normalize_id(conn, text) == expected


@pytest.mark.parametrize(
    ("text", "detail_word"),
    [
        ("CUS AAB0012", '"-"'),
        ("CUS-AB0012", "letters"),
        ("CUS-AAB0", "outside"),
        ("CUS-AAB0000", "outside"),
        ("CUS-AAB10000", "outside"),
        ("CUS-0012", "letters"),
        ("CUS-AAB", "letters"),
        ("", '"-"'),
    ],
)
def test_normalize_id_refuses_what_it_cannot_recover(conn: Conn, text: str, detail_word: str) -> None:
    with pytest.raises(errors.InvalidId) as excinfo, conn.transaction():
        pyidsql.normalize_id(conn, text)
    assert detail_word in (excinfo.value.detail or "")
    assert excinfo.value.hint and "CUS-AAA0001" in excinfo.value.hint


def test_parse_id_names_what_is_wrong(conn: Conn) -> None:
    with pytest.raises(errors.InvalidId) as excinfo, conn.transaction():
        pyidsql.parse_id(conn, "CUS-AAA00001")
    assert excinfo.value.detail == 'The number part "00001" has 5 digits; this format has 4.'
    with pytest.raises(psycopg.Error) as raw, conn.transaction():
        conn.execute("SELECT * FROM idsql.parse_id(NULL)")
    assert raw.value.sqlstate == "ID002"


# -- the other ways to call it ----------------------------------------------------------------


async def test_async_twins(aconn: psycopg.AsyncConnection[Any]) -> None:
    aio = pyidsql.aio
    assert await aio.generate_id(aconn, "CUS") == "CUS-AAA0001"
    assert await aio.bulk_generate_ids(aconn, "CUS", 2) == ["CUS-AAA0002", "CUS-AAA0003"]
    assert await aio.current_id(aconn, "CUS") == "CUS-AAA0003"
    await aio.reset_sequence(aconn, "CUS", "CUS-AAA9999")
    assert await aio.generate_id(aconn, "CUS") == "CUS-AAB0001"
    await aio.configure_prefix(aconn, "FST", mode="fast")
    assert await aio.generate_id(aconn, "FST") == "FST-AAA0001"
    await aconn.execute("CREATE TABLE t (id text)")
    await aconn.execute("INSERT INTO t VALUES ('CUS-AAC0001')")
    assert await aio.sync_prefix(aconn, "CUS", "t", "id") == "CUS-AAC0001"
    assert [s.prefix for s in await aio.prefix_stats(aconn)] == ["CUS", "FST"]
    assert (await aio.id_health_check(aconn))["status"] == "healthy"
    assert await aio.format_id(aconn, "CUS", 10000) == "CUS-AAB0001"
    assert (await aio.parse_id(aconn, "CUS-AAB0001")).ordinal == 10000
    assert await aio.is_valid_id(aconn, "CUS-AAB0001", "CUS")
    assert await aio.increment_id(aconn, "CUS-ZZZ9999") == "CUS-AAAA0001"
    assert await aio.normalize_id(aconn, " cus-aab12") == "CUS-AAB0012"
    with pytest.raises(errors.InvalidPrefix):
        await aio.generate_id(aconn, "bad")


def _engine(dsn: str) -> sa.Engine:
    return sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))


def test_sqlalchemy_connection_and_session(dsn: str) -> None:
    engine = _engine(dsn)
    with engine.connect() as sc:
        assert pyidsql.generate_id(sc, "SAL") == "SAL-AAA0001"
        sc.commit()
    with Session(engine) as session:
        assert pyidsql.generate_id(session, "SAL") == "SAL-AAA0002"
        session.rollback()
    with Session(engine) as session, session.begin():
        assert pyidsql.generate_id(session, "SAL") == "SAL-AAA0002"
        with pytest.raises(errors.InvalidPrefix) as excinfo:
            pyidsql.generate_id(session, "sal")
        assert excinfo.value.__cause__ is not None
    engine.dispose()


def test_sqlalchemy_server_default(dsn: str) -> None:
    engine = _engine(dsn)
    meta = sa.MetaData()
    customer = sa.Table(
        "customer",
        meta,
        sa.Column("id", sa.Text, primary_key=True, server_default=prefixed_id_default(pyidsql.IdPrefixes.CUSTOMER)),
        sa.Column("name", sa.Text),
    )
    with engine.begin() as sc:
        meta.create_all(sc)
        ids = [sc.execute(sa.insert(customer).values(name=n).returning(customer.c.id)).scalar_one() for n in ("a", "b")]
    assert ids == ["CUS-AAA0001", "CUS-AAA0002"]
    for bad in ["cus", "CUS'); DROP TABLE customer; --", ""]:
        with pytest.raises(errors.InvalidPrefix):
            prefixed_id_default(bad)
    engine.dispose()


def test_id_prefixes_are_the_original_constants(conn: Conn) -> None:
    assert pyidsql.IdPrefixes.all() == {
        "CUSTOMER": "CUS",
        "VENDOR": "VEN",
        "WAREHOUSE": "WH",
        "ITEM_PACKAGING": "PKG",
        "UNIT_OF_MEASUREMENT": "UOM",
        "PURCHASE_ORDER": "PUR",
        "SALES_ORDER": "SAL",
        "INVOICE": "INV",
        "RECEIPT": "REC",
        "INVENTORY": "INVY",
    }
    for prefix in pyidsql.IdPrefixes.all().values():
        assert pyidsql.generate_id(conn, prefix) == f"{prefix}-AAA0001"
