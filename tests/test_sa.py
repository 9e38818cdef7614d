"""SQLAlchemy helpers of pyidsql.sa against a real PostgreSQL: columns, mixin, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from pyidsql import errors
from pyidsql.sa import (
    PrefixedId,
    StateVersioned,
    mapped_prefixed_id,
    prefixed_id_column,
    translate_errors,
)


@pytest.fixture
def engine(dsn: str) -> Iterator[sa.Engine]:
    """Return an engine on the test database, disposed after the test."""
    eng = sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    yield eng
    eng.dispose()


def _customer(metadata: sa.MetaData) -> sa.Table:
    return sa.Table("customer", metadata, prefixed_id_column("CUS", "id"), sa.Column("name", sa.Text))


def test_prefixed_id_column_check_renders_quoted_call() -> None:
    metadata = sa.MetaData()
    table = sa.Table("Odd Table", metadata, prefixed_id_column("CUS", "Odd Id"))
    ddl = str(sa.schema.CreateTable(table).compile(dialect=postgresql.dialect()))
    assert "DEFAULT idsql.generate_id('CUS')" in ddl
    assert """CONSTRAINT "Odd Table_Odd Id_is_valid_id" CHECK (idsql.is_valid_id("Odd Id", 'CUS', 4, 3))""" in ddl


def test_prefixed_id_column_defaults_and_checks(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    customer = _customer(metadata)
    with engine.begin() as c:
        metadata.create_all(c)
        ids = [c.execute(sa.insert(customer).values(name=n).returning(customer.c.id)).scalar_one() for n in "ab"]
    assert ids == ["CUS-AAA0001", "CUS-AAA0002"]
    for bad in ["CUS-AAA0000", "VEN-AAA0001", "CUS-AAA001"]:
        with pytest.raises(sa.exc.IntegrityError) as excinfo, engine.begin() as c:
            c.execute(sa.insert(customer).values(id=bad))
        assert isinstance(excinfo.value.orig, pg_errors.CheckViolation)
        assert excinfo.value.orig.sqlstate == "23514"
        assert excinfo.value.orig.diag.constraint_name == "customer_id_is_valid_id"
    with engine.begin() as c:
        c.execute(sa.insert(customer).values(id="CUS-ZZZ9999"))


def test_prefixed_id_column_other_format(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    ticket = sa.Table("ticket", metadata, prefixed_id_column("TK", "id", digits=6, min_letters=2))
    with engine.begin() as c:
        metadata.create_all(c)
        c.execute(sa.text("SELECT idsql.configure_prefix('TK', digits => 6, min_letters => 2)"))
        assert c.execute(sa.insert(ticket).returning(ticket.c.id)).scalar_one() == "TK-AA000001"
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as c:
        c.execute(sa.insert(ticket).values(id="TK-AAA0001"))


def test_prefixed_id_invalid_prefix_raises_before_ddl() -> None:
    for bad in ["cus", "CUS'); DROP TABLE customer; --", "", "1AB", "A" * 21]:
        with pytest.raises(errors.InvalidPrefix):
            PrefixedId(bad)
        with pytest.raises(errors.InvalidPrefix):
            prefixed_id_column(bad, "id")
        with pytest.raises(errors.InvalidPrefix):
            mapped_prefixed_id(bad)


def test_mapped_prefixed_id_in_declarative(engine: sa.Engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Vendor(Base):
        __tablename__ = "vendor"
        id: Mapped[str] = mapped_prefixed_id("VEN")
        name: Mapped[str | None] = mapped_column(sa.Text)

    with engine.begin() as c:
        Base.metadata.create_all(c)
    with Session(engine) as session, session.begin():
        v = Vendor(name="Acme")
        session.add(v)
        session.flush()
        assert v.id == "VEN-AAA0001"
    with pytest.raises(sa.exc.IntegrityError) as excinfo, Session(engine) as session, session.begin():
        session.add(Vendor(id="CUS-AAA0001", name="wrong"))
    assert excinfo.value.orig is not None
    assert excinfo.value.orig.diag.constraint_name == "vendor_id_is_valid_id"  # type: ignore[attr-defined]


def _model() -> tuple[type[DeclarativeBase], type[object], type[object]]:
    class Base(DeclarativeBase):
        pass

    class ChatSession(StateVersioned, Base):
        __tablename__ = "chat_session"
        __state_version__: ClassVar[dict[str, Any]] = {"history": True}
        session_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
        state_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")

    class Entity(StateVersioned, Base):
        __tablename__ = "entity"
        __state_version__: ClassVar[dict[str, Any]] = {"parent": "chat_session", "history": True}
        entity_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
        session_id: Mapped[str] = mapped_column(sa.ForeignKey("chat_session.session_id"))
        name: Mapped[str | None] = mapped_column(sa.Text)
        state_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")

    return Base, ChatSession, Entity


def _versions(c: sa.Connection) -> tuple[int, int]:
    row = c.execute(
        sa.text("SELECT s.state_version, e.state_version FROM chat_session s JOIN entity e USING (session_id)")
    ).one()
    return row[0], row[1]


@pytest.mark.parametrize("translated", [True, False])
def test_state_versioned_mixin_bumps_and_refuses_stale(engine: sa.Engine, translated: bool) -> None:
    Base, ChatSession, Entity = _model()
    if translated:
        translate_errors(engine)
    with engine.begin() as c:
        Base.metadata.create_all(c)
        assert c.execute(sa.text("SELECT count(*) FROM idsql.state_version_table WHERE enabled")).scalar() == 2
    with Session(engine) as session, session.begin():
        session.add(ChatSession(session_id="S"))  # type: ignore[call-arg]
    with Session(engine) as session, session.begin():
        session.add(Entity(entity_id="A", session_id="S", name="a"))  # type: ignore[call-arg]
    with engine.begin() as c:
        assert _versions(c) == (2, 1)
    with Session(engine) as session, session.begin():
        session.get(Entity, "A").name = "b"  # type: ignore[union-attr]
    with engine.begin() as c:
        assert _versions(c) == (3, 2)
    expected = errors.StaleVersion if translated else sa.exc.DBAPIError
    with pytest.raises(expected) as excinfo, Session(engine) as session, session.begin():
        entity = session.get(Entity, "A")
        entity.name = "c"  # type: ignore[union-attr]
        entity.state_version = 1  # type: ignore[union-attr]
    if translated:
        assert isinstance(excinfo.value.__cause__, psycopg.Error)
    else:
        assert not isinstance(excinfo.value, errors.IdsqlError)
        assert excinfo.value.orig.sqlstate == "ID301"  # type: ignore[attr-defined]
    with engine.begin() as c:
        assert _versions(c) == (3, 2)
        Base.metadata.drop_all(c)
        assert c.execute(sa.text("SELECT count(*) FROM idsql.state_version_table WHERE enabled")).scalar() == 0


def test_state_versioned_skips_classes_without_table() -> None:
    class Base(DeclarativeBase):
        pass

    class Abstract(StateVersioned, Base):
        __abstract__ = True

    assert "__table__" not in Abstract.__dict__


def test_translate_errors_on_engine(engine: sa.Engine) -> None:
    translate_errors(engine)
    with engine.connect() as c:
        with pytest.raises(errors.InvalidId) as excinfo:
            c.execute(sa.text("SELECT idsql.parse_id('bad')"))
        assert isinstance(excinfo.value.__cause__, psycopg.Error)
        c.rollback()
        with pytest.raises(sa.exc.DataError) as other:
            c.execute(sa.text("SELECT 1 / 0"))
        assert isinstance(other.value.orig, pg_errors.DivisionByZero)


def test_translate_errors_off_leaves_sqlalchemy_errors(engine: sa.Engine) -> None:
    with engine.connect() as c, pytest.raises(sa.exc.DBAPIError) as excinfo:
        c.execute(sa.text("SELECT idsql.parse_id('bad')"))
    assert not isinstance(excinfo.value, errors.IdsqlError)
    assert excinfo.value.orig.sqlstate == "ID002"  # type: ignore[union-attr]
