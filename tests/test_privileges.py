"""The privilege model: usage generates and reads IDs, administration resets and configures.

Real roles on the test server (trust authentication), cleaned up after each test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pyidsql
from pyidsql.tooling.cli import main

Conn = psycopg.Connection[Any]

SETUP = """
CREATE TABLE early (id bigint PRIMARY KEY, note text);
SELECT idsql.initialize_table('early');
CREATE TABLE project (id text PRIMARY KEY, name text);
CREATE TABLE numbered (id serial PRIMARY KEY);
"""


def _as(dsn: str, role: str) -> Conn:
    return psycopg.connect(dsn, user=role, autocommit=True)


def test_grant_access_usage_generates_ids_and_administers_nothing(
    dsn: str, roles: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    user = roles()
    with psycopg.connect(dsn, autocommit=True) as owner:
        owner.execute(SETUP)
        owner.execute(sql.SQL("GRANT SELECT, INSERT ON early, project, numbered TO {}").format(sql.Identifier(user)))
    assert main(["grant", "--role", user, "--dsn", dsn]) == 0
    assert capsys.readouterr().out == f"{user} may now use idsql\n"
    with psycopg.connect(dsn, autocommit=True) as owner:
        # Created after the grant: run-time sequences get the same privileges.
        owner.execute("CREATE TABLE late (id bigint PRIMARY KEY); SELECT idsql.initialize_table('late')")
        owner.execute(sql.SQL("GRANT SELECT ON late TO {}").format(sql.Identifier(user)))
        pyidsql.configure_prefix(owner, "EVT", mode="fast")
        pyidsql.set_id_strategy(owner, "project", "server", "prefix:PRJ")

    with _as(dsn, user) as c:
        # Usage: generate and read.
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
        assert pyidsql.bulk_generate_ids(c, "CUS", 2) == ["CUS-AAA0002", "CUS-AAA0003"]
        assert pyidsql.generate_id(c, "EVT") == "EVT-AAA0001"
        assert pyidsql.current_id(c, "CUS") == "CUS-AAA0003"
        assert [s.prefix for s in pyidsql.prefix_stats(c)] == ["CUS", "EVT"]
        assert pyidsql.next_id(c, "early") == 1
        assert pyidsql.next_id(c, "late") == 1
        assert pyidsql.insert_with_retry(c, "early", {"note": "x"})["id"] == 2
        temp = pyidsql.new_temp_id(c, "project")
        c.execute("INSERT INTO project VALUES (%s, 'p')", (temp,))
        assert pyidsql.is_temp_id(c, "project", temp)

        # Not administration: each refused by PostgreSQL's own privilege check (42501).
        refused = [
            "SELECT idsql.reset_sequence('CUS', NULL)",
            "SELECT idsql.configure_prefix('CUS', mode => 'fast')",
            "SELECT idsql.sync_prefix('CUS', 'project', 'id')",
            "SELECT idsql.initialize_table('project')",
            "SELECT idsql.fix_sequence('numbered', 'id')",
            "SELECT * FROM idsql.fix_all_sequences_report()",
            "CALL idsql.fix_all_sequences()",
            "SELECT idsql.set_id_strategy('project', 'client')",
            "SELECT idsql.enable_state_version('project')",
            f"SELECT idsql.grant_access('{user}', admin => true)",
            # ... nor around the functions, on the tables and sequences behind them.
            "UPDATE idsql.prefix_counter SET last_value = 0",
            "DELETE FROM idsql.prefix_counter",
            "UPDATE idsql.table_counter SET initial_value = 1",
            "SELECT setval(seq, 1) FROM idsql.table_counter",
            "SELECT setval(fast_seq, 1) FROM idsql.prefix_counter WHERE prefix = 'EVT'",
            "ALTER SEQUENCE idsql.prefix_evt_seq RESTART",
            "INSERT INTO idsql.id_strategy (tbl, strategy) VALUES ('early', 'client')",
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(statement.encode())
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0004"


def test_grant_access_admin_administers(dsn: str, roles: Callable[[], str], capsys: pytest.CaptureFixture[str]) -> None:
    admin = roles()
    with psycopg.connect(dsn, autocommit=True) as owner:
        owner.execute(SETUP)
        grant = sql.SQL("GRANT ALL ON early, project, numbered, numbered_id_seq TO {}")
        owner.execute(grant.format(sql.Identifier(admin)))
    assert main(["grant", "--role", admin, "--admin", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == f"{admin} may now administer idsql\n"
    with _as(dsn, admin) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
        pyidsql.reset_sequence(c, "CUS", "CUS-ZZZ9999")
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAAA0001"
        pyidsql.configure_prefix(c, "EVT", mode="fast")
        assert pyidsql.generate_id(c, "EVT") == "EVT-AAA0001"  # its own sequence, shared with the owner
        pyidsql.set_id_strategy(c, "project", "server", "prefix:PRJ")
        assert pyidsql.fix_sequence(c, "numbered", "id") == 1
        assert pyidsql.initialize_table(c, "numbered") == 1
        assert pyidsql.next_id(c, "early") == 1


def test_grant_access_unknown_role(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grant", "--role", "no such role", "--dsn", dsn]) == 2
    assert 'role "no such role" does not exist' in capsys.readouterr().err


async def test_grant_access_async(dsn: str, roles: Callable[[], str]) -> None:
    import pyidsql.aio

    user = roles()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as c:
        await pyidsql.aio.grant_access(c, user)
    with _as(dsn, user) as c:
        assert pyidsql.generate_id(c, "CUS") == "CUS-AAA0001"
