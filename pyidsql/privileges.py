"""Privileges: let a role use idsql, or administer it (docs/privileges.md)."""

from __future__ import annotations

from pyidsql._calls import Steps, rows, wrapper


@wrapper
def grant_access(role: str, *, admin: bool = False) -> Steps[None]:
    """Let *role* generate and read IDs, or also administer idsql (``idsql.grant_access``).

    *role* is the role's exact name. Usage covers generating, reading and negotiating IDs and
    writing tables under state versions; *admin* adds resetting, configuring and registering
    counters, fixing sequences, setting strategies and granting. Never commits.
    """
    yield from rows("SELECT idsql.grant_access(pg_catalog.quote_ident(%s)::regrole, admin => %s)", (role, admin))
