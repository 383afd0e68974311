"""IoLoop: one thread, one asyncio loop, thread-safe submission, clean stop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from otrade.errors import EngineError
from otrade.ioloop import IoLoop


async def _thread_name() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_coroutines_run_on_the_io_thread():
    io_loop = IoLoop(name="test-io")
    io_loop.start()
    try:
        assert io_loop.run(_thread_name()) == "test-io"
        assert io_loop.submit(_thread_name()).result(2) == "test-io"
    finally:
        io_loop.stop()


def test_stop_cancels_pending_tasks_and_is_idempotent():
    io_loop = IoLoop()
    io_loop.start()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    io_loop.submit(forever())
    io_loop.stop()
    io_loop.stop()
    assert cancelled.is_set()
    assert not io_loop.running


def test_run_times_out_and_cancels():
    io_loop = IoLoop()
    io_loop.start()
    try:
        with pytest.raises(TimeoutError, match=r"0\.05 s"):
            io_loop.run(asyncio.sleep(10), timeout_s=0.05)
    finally:
        io_loop.stop()


def test_submit_to_a_stopped_loop_is_refused_without_leaking_the_coroutine():
    io_loop = IoLoop()
    coroutine = _thread_name()
    with pytest.raises(EngineError, match="not running"):
        io_loop.submit(coroutine)
    assert coroutine.cr_frame is None  # closed, so no "never awaited" warning


def test_run_from_the_io_thread_is_refused():
    io_loop = IoLoop()
    io_loop.start()

    async def nested() -> str:
        try:
            io_loop.run(_thread_name())
        except EngineError as error:
            return str(error)
        return "no error"

    try:
        assert "on the IO thread" in io_loop.run(nested())
    finally:
        io_loop.stop()
