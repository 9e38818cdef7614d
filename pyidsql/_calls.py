"""One definition per wrapper, run on a sync connection or on an async one.

A wrapper is written once, as the *steps* of its call: a generator that yields each request it
needs (a query, or for a listener the next notification) and is sent the answer, then returns
the result. The SQL, the arguments, the shaping of the result and the docstring live there.

- :func:`wrapper` turns steps into the sync function of ``pyidsql`` (connection first);
- :func:`asynchronous` turns that function into its twin in ``pyidsql.aio``, from the same steps;
- :func:`listener` / :func:`asynchronous_listener` do the same for a stream of events;
- :func:`method` / :func:`asynchronous_method` for the methods of a class holding ``self.conn``.

So the async API cannot drift from the sync one: it has nothing of its own to drift with.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, LiteralString, ParamSpec, TypeAlias, TypeVar

from pyidsql import _db
from pyidsql._db import AsyncConnectable, Connectable, Params

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
S = TypeVar("S")


@dataclass(frozen=True)
class Query:
    """Run *sql*; the answer is its rows."""

    sql: LiteralString
    params: Params = ()


@dataclass(frozen=True)
class Execute:
    """Run *sql*, which returns no rows (``LISTEN``); the answer is None. psycopg connections only."""

    sql: LiteralString


@dataclass(frozen=True)
class Notifies:
    """Wait up to *timeout* seconds (None: for ever) for a notification; the answer is the payloads."""

    timeout: float | None


@dataclass(frozen=True)
class Connection:
    """The answer is the connection itself, to read its settings (``autocommit``, ``info``)."""


@dataclass(frozen=True)
class Event(Generic[T]):
    """Not a request: a value a listener hands to its caller."""

    value: T


Request: TypeAlias = Query | Execute | Notifies | Connection
Steps: TypeAlias = Generator[Request, Any, R]
"""The steps of a call that returns R."""
Listener: TypeAlias = Generator[Request | Event[T], Any, None]
"""The steps of a listener that hands out values of type T."""


def rows(sql: LiteralString, params: Params = ()) -> Steps[list[tuple[Any, ...]]]:
    """Run *sql* and return all its rows."""
    result: list[tuple[Any, ...]] = yield Query(sql, params)
    return result


def scalar(sql: LiteralString, params: Params = ()) -> Steps[Any]:
    """Run *sql* and return the first column of its single row."""
    return (yield from rows(sql, params))[0][0]


# --- running steps ----------------------------------------------------------------------------


def _answer(conn: Any, request: Request) -> Any:
    if isinstance(request, Query):
        return _db.fetch_all(conn, request.sql, request.params)
    if isinstance(request, Execute):
        conn.execute(request.sql)
        return None
    if isinstance(request, Notifies):
        return [note.payload for note in conn.notifies(timeout=request.timeout, stop_after=1)]
    return conn


async def _aanswer(conn: Any, request: Request) -> Any:
    if isinstance(request, Query):
        return await _db.afetch_all(conn, request.sql, request.params)
    if isinstance(request, Execute):
        await conn.execute(request.sql)
        return None
    if isinstance(request, Notifies):
        return [note.payload async for note in conn.notifies(timeout=request.timeout, stop_after=1)]
    return conn


def run(conn: Any, steps: Steps[R]) -> R:
    """Run *steps* on a sync connection and return their result."""
    answer: Any = None
    while True:
        try:
            request = steps.send(answer)
        except StopIteration as done:
            result: R = done.value
            return result
        answer = _answer(conn, request)


async def arun(conn: Any, steps: Steps[R]) -> R:
    """Run *steps* on an async connection and return their result."""
    answer: Any = None
    while True:
        try:
            request = steps.send(answer)
        except StopIteration as done:
            result: R = done.value
            return result
        answer = await _aanswer(conn, request)


def _iterate(conn: Any, steps: Listener[T]) -> Iterator[T]:
    """Run the listener *steps* on a sync connection, handing out their events."""
    answer: Any = None
    while True:
        try:
            item = steps.send(answer)
        except StopIteration:
            return
        if isinstance(item, Event):
            answer = None
            yield item.value
        else:
            answer = _answer(conn, item)


async def _aiterate(conn: Any, steps: Listener[T]) -> AsyncIterator[T]:
    """Run the listener *steps* on an async connection, handing out their events."""
    answer: Any = None
    while True:
        try:
            item = steps.send(answer)
        except StopIteration:
            return
        if isinstance(item, Event):
            answer = None
            yield item.value
        else:
            answer = await _aanswer(conn, item)


# --- the signatures users see ------------------------------------------------------------------


def _returns(annotation: Any, inner: str) -> Any:
    """Return ``Steps[X]`` as X, or ``Listener[X]`` as ``inner[X]`` (annotations are strings here)."""
    if isinstance(annotation, str):
        for outer in ("Steps[", "Listener["):
            if annotation.startswith(outer) and annotation.endswith("]"):
                value = annotation[len(outer) : -1]
                return f"{inner}[{value}]" if outer == "Listener[" else value
    return annotation


def _present(call: Callable[..., Any], steps: Callable[..., Any], conn: str | None, returns: str) -> None:
    """Give *call* the name, docstring and signature of *steps*, with *conn* first (unless None)."""
    functools.update_wrapper(call, steps)
    del call.__wrapped__  # type: ignore[attr-defined]  # the signature below is the one to show
    signature = inspect.signature(steps)
    parameters = list(signature.parameters.values())
    if conn is not None:
        parameters.insert(0, inspect.Parameter("conn", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=conn))
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=_returns(signature.return_annotation, returns)
    )
    call.steps = steps  # type: ignore[attr-defined]


def _twin(call: Callable[..., Any], sync: Callable[..., Any], conn: str | None, returns: str | None = None) -> None:
    """Give the async *call* what :func:`_present` gave *sync*, with the async connection type."""
    _present(call, sync.steps, conn, returns or "Iterator")  # type: ignore[attr-defined]
    call.__module__ = "pyidsql.aio"
    call.__qualname__ = sync.__qualname__


def steps_of(function: Callable[..., Any]) -> Callable[..., Steps[Any]]:
    """Return the steps a wrapper runs, to run them inside other steps (``yield from``)."""
    steps: Callable[..., Steps[Any]] = function.steps  # type: ignore[attr-defined]
    return steps


def wrapper(steps: Callable[P, Steps[R]]) -> Callable[Concatenate[Connectable, P], R]:
    """Return the sync wrapper of *steps*: ``f(conn, *args)``."""

    def call(conn: Connectable, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run(conn, steps(*args, **kwargs))

    _present(call, steps, "Connectable", "Iterator")
    return call


def asynchronous(
    sync: Callable[Concatenate[Connectable, P], R],
) -> Callable[Concatenate[AsyncConnectable, P], Coroutine[Any, Any, R]]:
    """Return the async twin of the sync wrapper *sync*: the same steps, awaited."""
    steps = steps_of(sync)

    async def call(conn: AsyncConnectable, /, *args: P.args, **kwargs: P.kwargs) -> R:
        result: R = await arun(conn, steps(*args, **kwargs))
        return result

    _twin(call, sync, "AsyncConnectable")
    return call


def listener(steps: Callable[P, Listener[T]]) -> Callable[Concatenate[Any, P], Iterator[T]]:
    """Return the sync listener of *steps*: an iterator of the values they hand out."""

    def call(conn: Any, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return _iterate(conn, steps(*args, **kwargs))

    _present(call, steps, "psycopg.Connection[Any]", "Iterator")
    return call


def asynchronous_listener(
    sync: Callable[Concatenate[Any, P], Iterator[T]],
) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
    """Return the async twin of the listener *sync*: an async iterator of the same values."""
    steps: Callable[..., Listener[T]] = sync.steps  # type: ignore[attr-defined]

    def call(conn: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return _aiterate(conn, steps(*args, **kwargs))

    _twin(call, sync, "psycopg.AsyncConnection[Any]", "AsyncIterator")
    return call


class HasConnection:
    """A class whose methods run on ``self.conn`` (see :func:`method`)."""

    conn: Any


H = TypeVar("H", bound=HasConnection)


def method(steps: Callable[Concatenate[H, P], Steps[R]]) -> Callable[Concatenate[H, P], R]:
    """Return a sync method that runs *steps* on ``self.conn``."""

    def call(self: H, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run(self.conn, steps(self, *args, **kwargs))

    _present(call, steps, None, "Iterator")
    return call


def asynchronous_method(sync: Callable[Concatenate[H, P], R]) -> Callable[Concatenate[H, P], Coroutine[Any, Any, R]]:
    """Return the async twin of the sync method *sync*."""
    steps: Callable[..., Steps[R]] = sync.steps  # type: ignore[attr-defined]

    async def call(self: H, /, *args: P.args, **kwargs: P.kwargs) -> R:
        result: R = await arun(self.conn, steps(self, *args, **kwargs))
        return result

    _twin(call, sync, None)
    return call
