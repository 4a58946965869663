"""Progress of long phases (gloss embedding, training, ingest, calibration…) for people watching a run.

A ``Progress`` reports phases: ``with progress.phase("training", total=300, unit="epoch") as step:
step(1, "loss 0.41")``, and one-line notes. ``progress_for(True)`` picks the display: a rich bar on
stderr when stderr is a terminal, plain phase lines (start, a line at most every ``interval`` seconds,
end) when it is piped or logged, so a log file never fills with carriage-return bar redraws. The API
takes ``progress: bool | Progress``; ``False`` is silent. Imports nothing heavy.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

Step = Callable[..., None]  # step(n: int = 1, info: str = "")


class Progress:
    """Silent base: phases run, nothing is shown. Subclasses override ``_start``/``_step``/``_end``/``note``."""

    @contextmanager
    def phase(self, name: str, total: int | None = None, unit: str = "item") -> Iterator[Step]:
        """A phase of ``total`` units (None: unknown); yields ``step(n=1, info="")`` to call as work is done."""
        state = self._start(name, total, unit)
        t0 = time.perf_counter()
        done = [0]

        def step(n: int = 1, info: str = "") -> None:
            done[0] += n
            self._step(state, done[0], info)

        try:
            yield step
        finally:
            self._end(state, done[0], time.perf_counter() - t0)

    def note(self, message: str) -> None:
        """One line about the run (what was read, what was trained)."""

    def _start(self, name: str, total: int | None, unit: str) -> Any:
        return None

    def _step(self, state: Any, done: int, info: str) -> None:
        pass

    def _end(self, state: Any, done: int, seconds: float) -> None:
        pass


SILENT = Progress()


class LineProgress(Progress):
    """Plain lines on a stream: ``name: started``, throttled ``name: 3/8 batch (37%) 34s``, ``name: done``."""

    def __init__(self, stream: IO[str] | None = None, interval: float = 15.0) -> None:
        self.stream = stream
        self.interval = interval

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def note(self, message: str) -> None:
        self._write(message)

    def _start(self, name: str, total: int | None, unit: str) -> dict[str, Any]:
        self._write(f"{name}: started" + (f" ({total} {unit})" if total is not None else ""))
        now = time.perf_counter()
        return {"name": name, "total": total, "unit": unit, "t0": now, "last": now, "info": ""}

    def _step(self, state: dict[str, Any], done: int, info: str) -> None:
        state["info"] = info or state["info"]
        now = time.perf_counter()
        if now - state["last"] >= self.interval:
            state["last"] = now
            self._write(f"{state['name']}: {_count(done, state['total'], state['unit'])} "
                        f"{now - state['t0']:.0f}s{_tail(state['info'])}")

    def _end(self, state: dict[str, Any], done: int, seconds: float) -> None:
        counted = f"{_count(done, state['total'], state['unit'])} " if done or state["total"] else ""
        self._write(f"{state['name']}: done, {counted}in {seconds:.1f}s{_tail(state['info'])}")


class RichProgress(Progress):
    """A rich bar per phase on a terminal console (stderr); the finished bar stays as the phase's record."""

    def __init__(self, console: Any = None) -> None:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)

    def _start(self, name: str, total: int | None, unit: str) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                    TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=self.console)
        bars.start()
        return bars, bars.add_task(name, total=total, info=""), total

    def _step(self, state: Any, done: int, info: str) -> None:
        bars, task, _ = state
        bars.update(task, completed=done, **({"info": info} if info else {}))

    def _end(self, state: Any, done: int, seconds: float) -> None:
        bars, task, total = state
        bars.update(task, completed=done, total=done if total is None else total)
        bars.stop()


def progress_for(progress: bool | Progress | None, stream: IO[str] | None = None) -> Progress:
    """``progress`` as a ``Progress``: kept if it is one, silent when falsy, else bars on a tty and lines otherwise."""
    if isinstance(progress, Progress):
        return progress
    if not progress:
        return SILENT
    stream = stream or sys.stderr
    if _isatty(stream):
        from rich.console import Console

        return RichProgress(Console(file=stream))
    return LineProgress(stream)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _count(done: int, total: int | None, unit: str) -> str:
    if total:
        return f"{done}/{total} {unit} ({100 * done // total}%)"
    return f"{done} {unit}"


def _tail(info: str) -> str:
    return f", {info}" if info else ""
