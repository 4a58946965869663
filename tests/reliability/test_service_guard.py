"""The service's readers-writer lock and request budgets, with real threads and a real event loop."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sensegraph.service_guard import Budget, ServiceBusy, ServiceLock


def test_readers_overlap_and_a_writer_waits_for_them_and_excludes_them():
    lock = ServiceLock()
    inside, most, events = [0], [0], []
    gate = threading.Event()
    counter = threading.Lock()

    def reader(i: int) -> None:
        with lock.shared():
            with counter:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            gate.wait(10)
            with counter:
                inside[0] -= 1
        events.append(f"r{i}")

    def writer() -> None:
        with lock:
            events.append(f"w-in:{inside[0]}")
            with lock.shared():  # a writer may read inside its own section
                with lock:  # and is reentrant
                    pass
        events.append("w-out")

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for t in readers:
        t.start()
    while inside[0] < 3:
        time.sleep(0.01)
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.2)
    assert not any(e.startswith("w-in") for e in events)  # the writer waits while readers hold the lock
    late = threading.Thread(target=reader, args=(9,))
    late.start()
    time.sleep(0.2)
    assert inside[0] == 3  # a waiting writer holds back new readers (no writer starvation)
    gate.set()
    for t in [*readers, w, late]:
        t.join(10)
    assert most[0] >= 3
    assert "w-in:0" in events and events.index("w-out") < events.index("r9")


def test_a_reader_cannot_upgrade_to_writer():
    lock = ServiceLock()
    with lock.shared(), pytest.raises(RuntimeError, match="shared"):
        lock.__enter__()


def test_a_budget_refuses_past_its_wait_and_its_run_time_and_frees_the_slot_when_the_work_ends():
    budget = Budget("link", 1, wait_s=0.2, run_s=0.3)
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "done"

    async def scenario() -> tuple:
        first = asyncio.ensure_future(budget.run(slow))
        await asyncio.sleep(0.05)
        assert budget.in_flight == 1
        with pytest.raises(ServiceBusy, match="busy"):
            await budget.run(lambda: "never")
        with pytest.raises(ServiceBusy, match="time budget"):
            await first
        assert budget.in_flight == 1  # the thread still runs: its slot is not given away
        release.set()
        for _ in range(100):
            if budget.in_flight == 0:
                break
            await asyncio.sleep(0.02)
        return budget.in_flight, await budget.run(lambda: "next")

    # a thread of its own: a session's Playwright browser keeps an event loop running in the main thread
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == (0, "next")


def test_inside_a_read_only_request_with_lock_is_the_shared_side():
    from sensegraph.service_guard import read_only_request

    lock = ServiceLock()
    entered = threading.Event()

    def page_view() -> None:
        token = read_only_request.set(True)
        try:
            with lock:  # what an editor GET handler writes
                entered.set()
        finally:
            read_only_request.reset(token)

    with lock.shared():  # a long reader is running
        t = threading.Thread(target=page_view)
        t.start()
        assert entered.wait(5)  # did not wait for the reader
        t.join(5)
    writer_entered = threading.Event()
    with lock.shared():
        w = threading.Thread(target=lambda: (lock.__enter__(), writer_entered.set(), lock.__exit__(None, None, None)))
        w.start()
        assert not writer_entered.wait(0.3)  # outside a read-only request it is the exclusive side
    w.join(5)
    assert writer_entered.is_set()
