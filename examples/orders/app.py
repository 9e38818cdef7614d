"""An offline-first order desk on plain SQLAlchemy 2 and pyidsql.

Customers get prefixed IDs from the database (``CUS-AAA0001``). An order taken offline gets a
temporary ID from ``idsql.new_temp_id``; when it reaches the server, ``assign_server_id`` gives it
a permanent ``ORD-…`` ID and rewrites the order and its lines in one statement. Orders and their
lines carry state versions with history, so a client can ask what changed since the version it
last saw, and a write based on an old version is refused.

Run it against a database (``pyidsql up`` prints one): ``python -m examples.orders --dsn URL``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import pyidsql
from pyidsql.errors import StaleVersion, translate
from pyidsql.install import install
from pyidsql.sa import prefixed_id_default, state_versioned


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customer"
    customer_id: Mapped[str] = mapped_column(sa.Text, primary_key=True, server_default=prefixed_id_default("CUS"))
    name: Mapped[str] = mapped_column(sa.Text)


class Order(Base):
    __tablename__ = "order"
    order_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customer.customer_id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    state_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")


class OrderLine(Base):
    __tablename__ = "order_line"
    line_id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("order.order_id"))
    product: Mapped[str] = mapped_column(sa.Text)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    state_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="1")


# Triggers come with the tables: create_all() enables state versions right after each CREATE TABLE.
state_versioned(Order.__table__, history=True)  # type: ignore[arg-type]
state_versioned(OrderLine.__table__, parent="order", history=True)  # type: ignore[arg-type]


def engine_for(dsn: str) -> sa.Engine:
    """Return an engine on *dsn*, a libpq conninfo or a postgresql:// URL (what ``pyidsql up`` prints)."""
    return sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))


def setup(engine: sa.Engine) -> None:
    """Install idsql if missing, create the tables and let the server name offline orders."""
    raw = engine.raw_connection()
    try:
        install(raw.driver_connection)  # type: ignore[arg-type]
        raw.commit()
    finally:
        raw.close()
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        pyidsql.set_id_strategy(conn, '"order"', "server", "prefix:ORD")


def create_customer(session: Session, name: str) -> Customer:
    """Add a customer; the database draws its ID from the CUS prefix."""
    customer = Customer(name=name)
    session.add(customer)
    session.flush()  # the server default comes back with the INSERT
    return customer


def take_order_offline(session: Session, customer_id: str, lines: list[tuple[str, int, str]]) -> str:
    """Record an order as a client would before it can reach the server: under a temporary ID."""
    temp_id = pyidsql.new_temp_id(session, '"order"')
    session.add(Order(order_id=temp_id, customer_id=customer_id))
    session.flush()
    session.add_all(OrderLine(order_id=temp_id, product=p, quantity=q, price=Decimal(pr)) for p, q, pr in lines)
    session.flush()
    return temp_id


def sync_order(session: Session, temp_id: str) -> str:
    """Swap the temporary ID for a permanent ORD-… one in the order and every line."""
    order_id = pyidsql.assign_server_id(session, '"order"', temp_id)
    session.expire_all()  # the rows changed under the ORM's feet
    return order_id


def change_quantity(session: Session, line_id: int, quantity: int, seen_version: int | None = None) -> None:
    """Set a line's quantity; with *seen_version*, only if nobody changed the line since."""
    values: dict[str, Any] = {"quantity": quantity}
    if seen_version is not None:
        values["state_version"] = seen_version  # optimistic lock, checked by the trigger
    try:
        session.execute(sa.update(OrderLine).where(OrderLine.line_id == line_id).values(**values))
    except sa.exc.DBAPIError as exc:
        raise (translate(exc) or exc) from exc
    session.expire_all()


def order_version(session: Session, order_id: str) -> int:
    """Return the order's current state version."""
    return session.scalars(sa.select(Order.state_version).where(Order.order_id == order_id)).one()


@dataclass(frozen=True)
class Diff:
    """What a client that saw *from_version* of an order needs to catch up."""

    from_version: int
    to_version: int
    changes: list[pyidsql.Change]
    lines_before: list[dict[str, Any]]


def catch_up(session: Session, order_id: str, from_version: int) -> Diff:
    """Return what changed under an order since *from_version*, and its lines back then."""
    key = {"order_id": order_id}
    to_version = order_version(session, order_id)
    return Diff(
        from_version,
        to_version,
        pyidsql.changes_between(session, '"order"', key, from_version, to_version),
        pyidsql.children_as_of(session, "order_line", key, from_version),
    )


def main(argv: list[str] | None = None) -> None:
    """Walk through the order desk once and print what happens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", required=True, help="libpq conninfo or postgresql:// URL")
    args = parser.parse_args(argv)
    engine = engine_for(args.dsn)
    setup(engine)
    with Session(engine) as session, session.begin():
        customer = create_customer(session, "Ada Lovelace")
        temp_id = take_order_offline(session, customer.customer_id, [("tea", 2, "4.50"), ("scones", 6, "1.20")])
        print(f"customer {customer.customer_id}; order taken offline as {temp_id}")
    with Session(engine) as session, session.begin():
        order_id = sync_order(session, temp_id)
        print(f"synced: {temp_id} -> {order_id}, version {order_version(session, order_id)}")
    with Session(engine) as session, session.begin():
        seen = order_version(session, order_id)
        line = session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)).first()
        assert line is not None
        line_id, line_version = line.line_id, line.state_version
        change_quantity(session, line_id, 3, seen_version=line_version)
    with Session(engine) as session, session.begin():
        diff = catch_up(session, order_id, seen)
        print(f"version {diff.from_version} -> {diff.to_version}: {[(c.table_name, c.change) for c in diff.changes]}")
    try:
        with Session(engine) as session, session.begin():
            change_quantity(session, line_id, 9, seen_version=line_version)  # the version before the change
    except StaleVersion as exc:
        print(f"refused: {exc}")
    engine.dispose()


if __name__ == "__main__":
    main()
