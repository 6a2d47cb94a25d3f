"""A connection pool that serves the requests waiting for a connection in the order they came.

With a fixed pool (the server's admission control: docs/DECISIONS.md, "Connections served in
the order asked"), requests beyond its size wait for a connection. SQLAlchemy's asyncio pool
keeps its connections in an `asyncio.Queue` and takes one without waiting whenever one is in
the queue: a connection given back is taken by whichever request asks next, often a newcomer,
before the request woken for it runs, and that one then queues again at the back. Under load a
few requests wait for many others' turns: one worker with 32 clients on a pool of 4 answered
portfolio reads with a median of 6 to 7 ms and a p99 of 254 to 407 ms, where a pool big enough
for every client (no waiting) gave 28 and 46 ms at the same rate (bench/README.md, sixteenth
step).

`FairQueue` hands a connection given back to the longest waiting request directly, and a
request asks the queue only when nobody is waiting before it: first come, first served.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon


class FairQueue(QueueCommon[Any]):
    """The pool's idle connections and, when there are none, the requests waiting for one,
    each with the time it gives up at (the pool's timeout after it asked)."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[Any] = deque()
        self._waiters: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    @property
    def waiting(self) -> int:
        """How many requests wait for a connection."""
        return sum(not waiter.done() for waiter, _ in self._waiters)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():  # else it gave up (timed out or cancelled)
                waiter.set_result(item)
                return
        if self.full():
            raise Full
        self._items.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        # The pool gives a connection back without blocking: a full queue means an overflow
        # connection, which the pool then closes.
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise Empty
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        # Idle connections and waiting requests never exist together: a connection given
        # back goes to a waiter when there is one.
        if self._items or not block:
            return self.get_nowait()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        deadline = loop.time() + (timeout if timeout is not None else _NEVER)
        self._waiters.append((waiter, deadline))
        if self._timer is None and timeout is not None:
            # No timer is set only when nobody in line has a time to give up at before this one.
            self._timer = loop.call_at(deadline, self._expire)
        try:
            return await_(waiter)
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.put_nowait(waiter.result())  # handed one just as it gave up: pass it on
            raise

    def _expire(self) -> None:
        """Refuse the waiters whose time is up, and wake again at the next one's. The pool asks
        with the same timeout every time, so the first in line gives up first: one timer for
        the whole line instead of one per waiter."""
        self._timer = None
        loop = asyncio.get_running_loop()
        while self._waiters and (self._waiters[0][0].done() or self._waiters[0][1] <= loop.time()):
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(Empty())  # the pool answers its timeout error
        if self._waiters and self._waiters[0][1] < _NEVER:
            self._timer = loop.call_at(self._waiters[0][1], self._expire)


_NEVER = float("inf")


class FairQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, its waiting requests served first come, first served."""

    _queue_class = FairQueue
