"""Privileges: let a role use idsql, or administer it (the README's privilege model)."""

from __future__ import annotations

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import Connectable


def grant_access(conn: Connectable, role: str, *, admin: bool = False) -> None:
    """Let *role* generate and read IDs, or also administer idsql (``idsql.grant_access``).

    *role* is the role's exact name. Usage covers generating, reading and negotiating IDs and
    writing tables under state versions; *admin* adds resetting, configuring and registering
    counters, fixing sequences, setting strategies and granting. Never commits.
    """
    _db.fetch_all(conn, Q.GRANT_ACCESS, (role, admin))
