"""The IO loop: one asyncio event loop on one thread, owned by the MainEngine.

Network clients (the log WebSocket stream now; ib_async, httpx and websockets clients in
gateways and datafeeds) run as coroutines on this loop.  Engines on the event thread reach
them through :meth:`IoLoop.submit`, which is thread-safe; the network code reaches the
engines only by putting events.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from loguru import logger

from otrade.errors import EngineError

__all__ = ["IoLoop"]

T = TypeVar("T")


class IoLoop:
    """A dedicated thread running one asyncio event loop.

    Args:
        name: The thread name (shows in tracebacks and thread dumps).
    """

    def __init__(self, name: str = "otrade-io") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, for code that must schedule callbacks on it.

        Raises:
            EngineError: The loop is not running.
        """
        if self._loop is None or not self.running:
            raise EngineError(f"IO loop {self._name!r} is not running")
        return self._loop

    def start(self) -> None:
        """Start the thread and its loop; starting a running loop does nothing."""
        with self._lock:
            if self.running:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._loop = loop
            self._thread = threading.Thread(target=run, name=self._name, daemon=True)
            self._thread.start()
            ready.wait()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coroutine`` on the loop from any thread.

        Returns:
            A future the caller may wait on with a timeout (never from the IO thread).

        Raises:
            EngineError: The loop is not running (the coroutine is closed, not leaked).
        """
        try:
            loop = self.loop
        except EngineError:
            coroutine.close()
            raise
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run ``coroutine`` on the loop and wait for its result.

        Raises:
            TimeoutError: It did not finish within ``timeout_s`` (it is cancelled).
            EngineError: Called from the IO thread itself, which would deadlock.
        """
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise EngineError("IoLoop.run() called on the IO thread; await the coroutine instead")
        future = self.submit(coroutine)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"coroutine did not finish within {timeout_s} s") from None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel the loop's tasks, stop it and join the thread; idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            if thread.is_alive():
                future = asyncio.run_coroutine_threadsafe(_cancel_all(), loop)
                try:
                    future.result(timeout_s)
                except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                    logger.warning("IO loop tasks did not finish cancelling within {} s", timeout_s)
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout_s)
                if thread.is_alive():
                    logger.error("IO thread {} did not stop within {} s", self._name, timeout_s)
                    return
            loop.close()
            self._loop = None
            self._thread = None


async def _cancel_all() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
