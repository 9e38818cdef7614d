"""State versions under concurrency: many writers under a few shared roots, real connections.

Every transaction changes attributes of one to three entities, possibly under different sessions,
in one statement; some roll back. Afterwards each session's and entity's version must have risen
by exactly the number of committed transactions that touched it, and no writer may have hit a
deadlock (or any other error).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import psycopg
from test_state_versions import SCHEMA

WRITERS = 32
SECONDS = 10.0
SESSIONS = 3
ENTITIES_PER_SESSION = 6
ATTRIBUTES_PER_ENTITY = 3


def _entity_of(attribute: str) -> str:
    return attribute.rsplit(".", 1)[0]


def _session_of(entity: str) -> str:
    return entity.split("/", 1)[0]


def test_enable_state_version_32_writers_no_deadlock_no_lost_count(dsn: str) -> None:
    entities = [f"S{s}/E{e}" for s in range(SESSIONS) for e in range(ENTITIES_PER_SESSION)]
    attributes = [f"{e}.a{a}" for e in entities for a in range(ATTRIBUTES_PER_ENTITY)]
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SCHEMA)
        with c.transaction():
            for s in range(SESSIONS):
                c.execute("INSERT INTO chat_session (session_id) VALUES (%s)", (f"S{s}",))
            for e in entities:
                c.execute("INSERT INTO entity (entity_id, session_id) VALUES (%s, %s)", (e, _session_of(e)))
            for a in attributes:
                c.execute("INSERT INTO entity_attribute (attribute_id, entity_id) VALUES (%s, %s)", (a, _entity_of(a)))
        before_sessions = dict(c.execute("SELECT session_id, state_version FROM chat_session").fetchall())
        before_entities = dict(c.execute("SELECT entity_id, state_version FROM entity").fetchall())

    committed_sessions: Counter[str] = Counter()
    committed_entities: Counter[str] = Counter()
    failures: list[BaseException] = []
    totals = Counter[str]()
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)
    deadline = time.monotonic() + SECONDS + 5  # set again once every writer is connected

    def writer(seed: int) -> None:
        nonlocal deadline
        rng = random.Random(seed)
        try:
            with psycopg.connect(dsn) as c:
                if start.wait() == 0:
                    deadline = time.monotonic() + SECONDS
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    chosen = rng.sample(attributes, rng.randint(1, 3))
                    # The writer locks its own rows in key order, as any multi-row writer must;
                    # the entities and sessions above them are the triggers' business.
                    c.execute(
                        "UPDATE entity_attribute SET value = %s WHERE attribute_id IN ("
                        " SELECT attribute_id FROM entity_attribute WHERE attribute_id = ANY(%s)"
                        " ORDER BY attribute_id FOR NO KEY UPDATE)",
                        (f"{seed}:{n}", chosen),
                    )
                    if rng.random() < 0.1:
                        c.rollback()
                        with lock:
                            totals["rolled back"] += 1
                        continue
                    c.commit()
                    touched_entities = {_entity_of(a) for a in chosen}
                    with lock:
                        totals["committed"] += 1
                        committed_entities.update(touched_entities)
                        committed_sessions.update({_session_of(e) for e in touched_entities})
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 120)
    elapsed = time.monotonic() - began

    assert failures == []
    assert not any(t.is_alive() for t in threads)
    assert elapsed >= SECONDS
    assert totals["committed"] > WRITERS  # every writer got through, more than once on average
    with psycopg.connect(dsn, autocommit=True) as c:
        sessions = dict(c.execute("SELECT session_id, state_version FROM chat_session").fetchall())
        ents = dict(c.execute("SELECT entity_id, state_version FROM entity").fetchall())
    assert {s: sessions[s] - before_sessions[s] for s in sessions} == {s: committed_sessions[s] for s in sessions}
    assert {e: ents[e] - before_entities[e] for e in ents} == {e: committed_entities[e] for e in ents}
