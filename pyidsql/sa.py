"""SQLAlchemy 2 helpers."""

from __future__ import annotations

import re

import sqlalchemy as sa

from pyidsql.errors import InvalidPrefix

_PREFIX = re.compile(r"[A-Z_][A-Z0-9_]{0,19}")


def prefixed_id_default(prefix: str) -> sa.TextClause:
    """Return a server default that draws the column's value from *prefix*.

    ``Column("id", Text, primary_key=True, server_default=prefixed_id_default("CUS"))``
    renders ``DEFAULT idsql.generate_id('CUS')``. The prefix is checked here, so
    nothing but a valid prefix ever reaches the DDL.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidPrefix(
            f'invalid prefix "{prefix}"',
            hint="Use 1-20 characters A-Z, 0-9 or _, starting with a letter or _, for example CUS.",
        )
    return sa.text(f"idsql.generate_id('{prefix}')")
