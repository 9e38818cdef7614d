"""A hostile search_path changes nothing: every idsql function pins its own.

Functions and an operator with the names idsql relies on are planted in ``public`` and put
first on the path; if any idsql function resolved a name through the caller's path, it would
call them and fail loudly. Only the public functions are called here: an internal helper runs
with its (pinned) caller's search_path, so an unpinned helper would not show up this way; the
catalog test checks that every function pins its own.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import pyidsql
import pyidsql.install

# One impostor per built-in that the SQL sources call unqualified, with the exact argument types
# (so overload resolution would prefer it), plus an operator.
PLANTED = """
CREATE FUNCTION public.hijacked() RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'search_path hijack reached' USING ERRCODE = 'XX001'; END $$;
CREATE FUNCTION public.lpad(text, integer, text) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.chr(integer) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.upper(text) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE sql AS 'SELECT length(public.hijacked())';
CREATE FUNCTION public.split_part(text, text, integer) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.regexp_match(text, text) RETURNS text[] LANGUAGE sql AS 'SELECT ARRAY[public.hijacked()]';
CREATE FUNCTION public.format(text) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.format(text, VARIADIC text[]) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE FUNCTION public.nextval(regclass) RETURNS bigint LANGUAGE sql AS 'SELECT length(public.hijacked())::bigint';
CREATE FUNCTION public.setval(regclass, bigint, boolean) RETURNS bigint
    LANGUAGE sql AS 'SELECT length(public.hijacked())::bigint';
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT public.hijacked()::timestamptz';
CREATE FUNCTION public.concat_hijack(text, text) RETURNS text LANGUAGE sql AS 'SELECT public.hijacked()';
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.concat_hijack);
"""


@pytest.fixture
def hostile(dsn: str) -> Any:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(PLANTED)
        c.execute("SET search_path = public, pg_catalog")
        # Outside idsql the impostors are reached: the trap is armed.
        for probe in ("SELECT 'a'::text || 'b'::text", "SELECT lpad('1'::text, 4, '0'::text)", "SELECT chr(65)"):
            with pytest.raises(psycopg.Error, match="hijack reached"):
                c.execute(probe)  # type: ignore[arg-type]
        yield c


def test_generate_id_ignores_a_hostile_search_path(hostile: psycopg.Connection[Any]) -> None:
    assert pyidsql.generate_id(hostile, "CUS") == "CUS-AAA0001"
    pyidsql.configure_prefix(hostile, "FST", mode="fast")
    assert pyidsql.generate_id(hostile, "FST") == "FST-AAA0001"
    assert pyidsql.bulk_generate_ids(hostile, "INV", 3) == ["INV-AAA0001", "INV-AAA0002", "INV-AAA0003"]
    assert pyidsql.bulk_generate_ids(hostile, "FST", 2) == ["FST-AAA0002", "FST-AAA0003"]
    pyidsql.reset_sequence(hostile, "CUS", "CUS-ZZZ9999")
    assert pyidsql.generate_id(hostile, "CUS") == "CUS-AAAA0001"
    assert pyidsql.current_id(hostile, "CUS") == "CUS-AAAA0001"


def test_pure_functions_ignore_a_hostile_search_path(hostile: psycopg.Connection[Any]) -> None:
    assert pyidsql.format_id(hostile, "CUS", 10000) == "CUS-AAB0001"
    assert pyidsql.parse_id(hostile, "CUS-AAB0001").ordinal == 10000
    assert pyidsql.is_valid_id(hostile, "CUS-AAB0001", "CUS") is True
    assert pyidsql.increment_id(hostile, "CUS-ZZZ9999") == "CUS-AAAA0001"
    assert pyidsql.normalize_id(hostile, " cus-aab12") == "CUS-AAB0012"
    with pytest.raises(pyidsql.errors.InvalidId):
        pyidsql.parse_id(hostile, "CUS-AAA0000")


def test_admin_functions_ignore_a_hostile_search_path(hostile: psycopg.Connection[Any]) -> None:
    hostile.execute("CREATE TABLE public.customer (id text)")
    hostile.execute("INSERT INTO public.customer VALUES ('CUS-AAA0042')")
    assert pyidsql.sync_prefix(hostile, "CUS", "public.customer", "id") == "CUS-AAA0042"
    assert [s.prefix for s in pyidsql.prefix_stats(hostile)] == ["CUS"]
    assert pyidsql.id_health_check(hostile)["status"] == "healthy"


@pytest.mark.parametrize("channel", ["script", "extension"])
def test_install_upgrade_and_grant_ignore_a_hostile_search_path(
    channel: str, empty_dsn: str, request: pytest.FixtureRequest
) -> None:
    """Installing 0.1.0, upgrading it to the head and granting, all with the impostors first on the path."""
    from psycopg import sql

    from pyidsql import __version__, _release

    first = _release.versions()[0]
    with psycopg.connect(empty_dsn, autocommit=True) as c:
        c.execute(PLANTED)
        c.execute(
            sql.SQL("ALTER DATABASE {} SET search_path = public, pg_catalog").format(sql.Identifier(c.info.dbname))
        )
    with psycopg.connect(empty_dsn, autocommit=True) as c:
        assert c.execute("SHOW search_path").fetchone() == ("public, pg_catalog",)
        if channel == "extension":
            request.getfixturevalue("extension_dir")
            c.execute(sql.SQL("CREATE EXTENSION idsql VERSION {}").format(sql.Literal(first)))
        else:
            with c.transaction():
                c.execute(_release.pinned(_release.install_script(first)).encode())
        assert pyidsql.install.install(c) == __version__  # the upgrade step (ALTER EXTENSION for the extension)
        c.execute("CREATE ROLE idsql_t_hostile_user")
        try:
            pyidsql.grant_access(c, "idsql_t_hostile_user")
            c.execute("SET ROLE idsql_t_hostile_user")
            assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
            assert pyidsql.bulk_generate_ids(c, "CUS", 2) == ["CUS-AAA0002", "CUS-AAA0003"]
            c.execute("RESET ROLE")
        finally:
            c.execute("RESET ROLE")
            c.execute("DROP OWNED BY idsql_t_hostile_user")
            c.execute("DROP ROLE idsql_t_hostile_user")
        # Nothing the impostors could have touched: every ID above came out right.
        assert c.execute("SELECT version FROM idsql.installation").fetchone() == (__version__,)
