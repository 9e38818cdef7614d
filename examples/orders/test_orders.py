"""The order desk against a fresh database from pyidsql's pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from examples.orders.app import (
    Order,
    OrderLine,
    catch_up,
    change_quantity,
    create_customer,
    engine_for,
    main,
    order_version,
    setup,
    sync_order,
    take_order_offline,
)
from pyidsql.errors import StaleVersion


@pytest.fixture
def engine(idsql_dsn: str) -> Iterator[sa.Engine]:
    engine = engine_for(idsql_dsn)
    setup(engine)
    yield engine
    engine.dispose()


def test_orders_offline_order_is_synced_versioned_and_guarded(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        customer_id = create_customer(session, "Ada Lovelace").customer_id
        temp_id = take_order_offline(session, customer_id, [("tea", 2, "4.50"), ("scones", 6, "1.20")])
    assert customer_id == "CUS-AAA0001"
    assert not temp_id.startswith("ORD-")

    with Session(engine) as session, session.begin():
        order_id = sync_order(session, temp_id)
    assert order_id == "ORD-AAA0001"
    with Session(engine) as session:
        assert session.scalars(sa.select(Order.order_id)).all() == [order_id]
        lines = session.scalars(sa.select(OrderLine).order_by(OrderLine.line_id)).all()
        assert [line.order_id for line in lines] == [order_id, order_id]
        first_id, first_version = lines[0].line_id, lines[0].state_version
        seen = order_version(session, order_id)
    assert (seen, first_version) == (2, 2)  # created at 1, then the ID replacement: one change

    with Session(engine) as session, session.begin():
        change_quantity(session, first_id, 3, seen_version=first_version)
    with Session(engine) as session:
        assert session.get_one(OrderLine, first_id).state_version == first_version + 1
        assert order_version(session, order_id) == seen + 1
        diff = catch_up(session, order_id, seen)
    assert (diff.from_version, diff.to_version) == (seen, seen + 1)
    assert [(c.table_name, c.change, c.changed_fields) for c in diff.changes] == [
        ("order_line", "changed", ["quantity"])
    ]
    assert sorted((r["product"], r["quantity"]) for r in diff.lines_before) == [("scones", 6), ("tea", 2)]

    with pytest.raises(StaleVersion), Session(engine) as session, session.begin():
        change_quantity(session, first_id, 9, seen_version=first_version)  # written before the change above
    with Session(engine) as session:
        assert session.get_one(OrderLine, first_id).quantity == 3


def test_orders_main_walks_through_once(idsql_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--dsn", idsql_dsn])
    out = capsys.readouterr().out
    assert "customer CUS-AAA0001; order taken offline as " in out
    assert "-> ORD-AAA0001, version 2" in out  # the replacement is a change too
    assert "version 2 -> 3: [('order_line', 'changed')]" in out
    assert "refused: stale state_version in update of public.order_line" in out
