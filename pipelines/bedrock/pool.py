"""A bounded worker pool that streams results in completion order.

Why not `ThreadPoolExecutor`: streaming from it in completion order means
`concurrent.futures.wait(FIRST_COMPLETED)` over every pending future, which
locks each of them on every call. At hundreds of requests a second that
bookkeeping costs more CPU (the GIL) than the requests themselves. Two plain
queues do the same job: IDs in, results out, at most `bound` in between.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from pipelines.bedrock.errors import Cancelled

A = TypeVar("A")
R = TypeVar("R")

_STOP = object()


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class BoundedPool(Generic[A, R]):
    """Run `fn` over `items` on `workers` threads, at most `bound` items taken but not yielded.

    `items` is read lazily, so it may be a generator of millions. Results are
    yielded as they complete. An exception from `fn` (other than `Cancelled`)
    is raised from the iterator after the results that finished before it.
    `on_stop` is called when the stream ends for any reason, so `fn` can be
    told to give up (the client sets its cancel event and wakes the pacer).
    """

    def __init__(self, fn: Callable[[A], R], *, workers: int, bound: int,
                 on_stop: Callable[[], None], name: str = "bedrock-fetch") -> None:
        if bound < workers:
            raise ValueError("bound must be >= workers")
        self._fn, self._workers, self._bound = fn, workers, bound
        self._on_stop, self._name = on_stop, name

    def run(self, items: Iterable[A]) -> Iterator[R]:
        todo: queue.SimpleQueue[object] = queue.SimpleQueue()
        done: queue.SimpleQueue[object] = queue.SimpleQueue()
        threads = [threading.Thread(target=self._work, args=(todo, done), daemon=True,
                                    name=f"{self._name}-{n}") for n in range(self._workers)]
        for thread in threads:
            thread.start()
        in_flight = 0
        try:
            for item in items:
                todo.put(item)
                in_flight += 1
                # Yield whatever is ready; wait only when the bound is reached.
                while in_flight >= self._bound or not done.empty():
                    in_flight -= 1
                    yield from self._unpack(done.get())
            while in_flight:
                in_flight -= 1
                yield from self._unpack(done.get())
        finally:
            self._on_stop()
            while True:  # what no worker has taken yet is dropped
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break
            for _ in threads:
                todo.put(_STOP)
            for thread in threads:
                thread.join()

    def _work(self, todo: queue.SimpleQueue[object], done: queue.SimpleQueue[object]) -> None:
        while True:
            item = todo.get()
            if item is _STOP:
                return
            try:
                done.put(self._fn(item))  # type: ignore[arg-type]
            except BaseException as error:  # handed to the consumer's thread
                done.put(_Raised(error))

    @staticmethod
    def _unpack(outcome: object) -> Iterator[R]:
        if isinstance(outcome, _Raised):
            if isinstance(outcome.error, Cancelled):
                return
            raise outcome.error
        yield outcome  # type: ignore[misc]
