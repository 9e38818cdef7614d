"""SQLAlchemy ORM against idsql: the server-side version counter as ``version_id_col``.

``pyidsql.sa.state_version_mapper_args`` maps ``state_version`` with ``version_id_generator=False``:
the ORM puts the version it loaded in the UPDATE's ``WHERE`` (a concurrent change raises
``StaleDataError``), the row trigger bumps it, and the ORM reads it back. A version written by hand
that is not the row's current one is refused by the database itself: ``StaleVersion``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
import pytest
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from pyidsql.errors import StaleVersion
from pyidsql.sa import StateVersioned, prefixed_id_default, state_version_mapper_args, translate_errors


class Base(DeclarativeBase):
    pass


class Account(StateVersioned, Base):
    __tablename__ = "orm_account"
    __state_version__: ClassVar[dict[str, Any]] = {"history": True}

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True, server_default=prefixed_id_default("ORM"))
    name: Mapped[str] = mapped_column(sa.Text)
    state_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")

    __mapper_args__ = state_version_mapper_args(state_version)


@pytest.fixture
def engine(dsn: str) -> Iterator[sa.Engine]:
    p = conninfo_to_dict(dsn)
    url = sa.engine.URL.create(
        "postgresql+psycopg",
        username=p.get("user"),
        password=p.get("password"),
        host=p.get("host"),
        port=int(p["port"]) if p.get("port") else None,
        database=p.get("dbname"),
    )
    e = sa.create_engine(url)
    translate_errors(e)
    Base.metadata.create_all(e)
    yield e
    e.dispose()


def _version(dsn: str, key: str) -> int:
    with psycopg.connect(dsn) as c:
        row = c.execute("SELECT state_version FROM orm_account WHERE id = %s", (key,)).fetchone()
    assert row is not None
    return int(row[0])


def test_the_server_counts_and_the_orm_reads_the_version_back(engine: sa.Engine, dsn: str) -> None:
    with Session(engine) as s:
        a = Account(name="Ada")
        s.add(a)
        s.flush()
        assert a.id.startswith("ORM-") and a.state_version == 1
        s.commit()
        a.name = "Ada L."
        s.flush()
        assert a.state_version == 2  # read back from the row the trigger bumped
        a.name = "Ada Lovelace"
        s.flush()
        assert a.state_version == 2  # once per transaction
        s.commit()
        assert _version(dsn, a.id) == 2


def test_a_concurrent_change_raises_stale_data_error(engine: sa.Engine, dsn: str) -> None:
    with Session(engine) as s:
        s.add(Account(id="ORM-AAA0001", name="Ada"))
        s.commit()
    with Session(engine) as mine, Session(engine) as theirs:
        a = mine.get_one(Account, "ORM-AAA0001")
        b = theirs.get_one(Account, "ORM-AAA0001")
        b.name = "Theirs"
        theirs.commit()
        a.name = "Mine"
        with pytest.raises(StaleDataError):
            mine.commit()
    assert _version(dsn, "ORM-AAA0001") == 2


def test_a_stale_version_written_by_hand_raises_stale_version(engine: sa.Engine, dsn: str) -> None:
    with Session(engine) as s:
        s.add(Account(id="ORM-AAA0001", name="Ada"))
        s.commit()
        a = s.get_one(Account, "ORM-AAA0001")
        a.name = "B"
        s.commit()
        # A form posted back the version the user saw (1); the row is at 2.
        a = s.get_one(Account, "ORM-AAA0001")
        a.name = "from the form"
        a.state_version = 1
        with pytest.raises(StaleVersion) as caught:
            s.commit()
        assert caught.value.sqlstate == "ID301" and caught.value.hint
    assert _version(dsn, "ORM-AAA0001") == 2


def test_orm_bulk_update_reports_unchanged_rows(engine: sa.Engine, dsn: str) -> None:
    with Session(engine) as s:
        s.add_all([Account(name=n) for n in ("a", "b", "c")])
        s.commit()
        result = s.execute(sa.update(Account).values(name=Account.name).execution_options(synchronize_session=False))
        assert result.rowcount == 3  # type: ignore[attr-defined]
        returned = s.execute(sa.update(Account).values(name=Account.name).returning(Account.id)).scalars().all()
        assert len(returned) == 3
        s.commit()
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT array_agg(state_version) FROM orm_account").fetchone() == ([1, 1, 1],)


def test_a_client_side_version_counter_is_refused(dsn: str) -> None:
    # The how-to's warning: without version_id_generator=False the ORM writes version + 1 itself,
    # which the row trigger refuses as stale on every update.
    class ClientSide(DeclarativeBase):
        pass

    class Counted(ClientSide):
        __tablename__ = "orm_counted"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.Text)
        state_version: Mapped[int] = mapped_column(sa.BigInteger)
        __mapper_args__ = {"version_id_col": state_version}  # noqa: RUF012

    p = conninfo_to_dict(dsn)
    e = sa.create_engine(
        sa.engine.URL.create(
            "postgresql+psycopg",
            username=p.get("user"),
            host=p.get("host"),
            port=int(p["port"]),
            database=p.get("dbname"),
        )
    )
    translate_errors(e)
    ClientSide.metadata.create_all(e)
    with e.begin() as c:
        c.execute(sa.text("SELECT idsql.enable_state_version('orm_counted')"))
    with Session(e) as s:
        s.add(Counted(id=1, name="a"))
        s.commit()
        s.get_one(Counted, 1).name = "b"
        with pytest.raises(StaleVersion):
            s.commit()
    e.dispose()
