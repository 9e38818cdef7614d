"""pyidsql: ID logic kept inside PostgreSQL, wrapped for psycopg 3 and SQLAlchemy 2."""

from __future__ import annotations

__version__ = "0.1.0"
