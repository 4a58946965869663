"""How the REST service shares one ``SenseGraph`` between requests without one request freezing the rest.

* ``ServiceLock``: reads, linking and ingests hold it *shared* and run side by side (the stores are
  thread-safe: the embedded store serialises its own SQLite calls per statement or transaction, the
  Neo4j driver is thread-safe; the models only read their weights). Only edits that change the
  linker's in-memory tables (curator alias edits, merges) take it *exclusively* (``with lock:``).
  Inside a GET or HEAD request (``read_only_request``, set by the service's middleware) ``with lock:``
  is taken shared too: a page view never waits for, nor holds back, the other readers.
* ``Budget``: a route's concurrency and time limits. A request queues for a slot at most ``wait_s``
  in the event loop (costing no worker thread), then runs in the thread pool; a read that runs past
  ``run_s`` answers 503 while its thread finishes and only then frees the slot. So many slow
  ``/link`` requests occupy ``slots`` threads, never the pool that ``/search`` needs.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from .errors import SenseGraphError

T = TypeVar("T")
read_only_request: ContextVar[bool] = ContextVar("sensegraph_read_only_request", default=False)


class ReadOnlyRequests:
    """ASGI middleware marking GET and HEAD requests read-only for ``ServiceLock`` (context, so threads see it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        token = read_only_request.set(scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"))
        try:
            await self.app(scope, receive, send)
        finally:
            read_only_request.reset(token)


class ServiceBusy(SenseGraphError):
    """No slot for this kind of request within its wait budget, or it ran past its time budget (503)."""


class ServiceLock:
    """A readers-writer lock: ``shared()`` for concurrent readers, ``with lock:`` for one exclusive writer.

    Writers are preferred (a waiting writer holds back new readers, so edits are not starved);
    both are reentrant per thread, and a writer may take the shared side inside its section.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer: int | None = None
        self._writer_depth = 0
        self._waiting_writers = 0
        self._local = threading.local()

    @contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        depth = getattr(self._local, "depth", 0)
        if depth or self._writer == me:  # nested inside our own read or write: already safe
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        with self._cond:
            while self._writer is not None or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The writer side, whatever the request's method (``with lock:`` is this outside GET/HEAD)."""
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def __enter__(self) -> ServiceLock:
        cm = self.shared() if read_only_request.get() else self.exclusive()  # a GET's ``with lock:`` reads
        cm.__enter__()
        self._local.__dict__.setdefault("modes", []).append(cm)
        return self

    def __exit__(self, *exc: object) -> None:
        self._local.modes.pop().__exit__(None, None, None)

    def _acquire(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                self._writer_depth += 1
                return
            if getattr(self._local, "depth", 0):
                raise RuntimeError("a thread holding the shared service lock cannot take it exclusively")
            self._waiting_writers += 1
            try:
                while self._writer is not None or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writer, self._writer_depth = me, 1

    def _release(self) -> None:
        with self._cond:
            self._writer_depth -= 1
            if not self._writer_depth:
                self._writer = None
                self._cond.notify_all()


@dataclass
class Budget:
    """At most ``slots`` requests of one kind at a time; queue ``wait_s``, run ``run_s`` (None: no limit)."""

    name: str
    slots: int
    wait_s: float
    run_s: float | None = None
    _free: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._free = threading.BoundedSemaphore(self.slots)
        self._busy = 0
        self._count = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Requests of this kind holding a slot now (running, or finishing past their time budget)."""
        return self._busy

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the thread pool once a slot is free; ``ServiceBusy`` past either budget."""
        deadline = time.monotonic() + self.wait_s
        while not self._free.acquire(blocking=False):  # polled: a threading semaphore works in any event loop
            if time.monotonic() >= deadline:
                raise ServiceBusy(f"{self.name}: all {self.slots} slot(s) busy for {self.wait_s:g} s; retry later")
            await asyncio.sleep(0.02)
        with self._count:
            self._busy += 1

        def work() -> T:
            try:
                return fn(*args)
            finally:
                with self._count:
                    self._busy -= 1
                self._free.release()  # when the work ends, not when the client stops waiting

        task = asyncio.ensure_future(run_in_threadpool(work))
        if self.run_s is None:
            return await task
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.run_s)
        except asyncio.TimeoutError:
            raise ServiceBusy(f"{self.name}: over its {self.run_s:g} s time budget; send less per request") from None
