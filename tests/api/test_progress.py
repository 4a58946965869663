"""Phase progress: plain lines when piped, rich bars on a terminal, nothing when off."""
from __future__ import annotations

import io

from sensegraph.progress import SILENT, LineProgress, Progress, RichProgress, progress_for


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_progress_prints_start_and_end_of_each_phase_without_carriage_returns():
    out = io.StringIO()
    prog = LineProgress(out, interval=0.0)
    with prog.phase("training", total=4, unit="epochs") as step:
        for i in range(4):
            step(1, f"loss {i}")
    prog.note("trained")
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == "training: started (4 epochs)"
    assert "training: 2/4 epochs (50%)" in text and ", loss 1" in text
    assert lines[-2].startswith("training: done, 4/4 epochs (100%) in ") and lines[-2].endswith("loss 3")
    assert lines[-1] == "trained"
    assert "\r" not in text and "%|" not in text


def test_line_progress_throttles_intermediate_lines():
    out = io.StringIO()
    with LineProgress(out, interval=3600).phase("glosses", total=1000, unit="glosses") as step:
        for _ in range(1000):
            step(1)
    assert len(out.getvalue().splitlines()) == 2  # started, done


def test_phase_without_total_reports_time_only():
    out = io.StringIO()
    with LineProgress(out).phase("inference"):
        pass
    assert out.getvalue().splitlines()[-1].startswith("inference: done, in ")


def test_progress_for_picks_lines_when_piped_bars_on_a_terminal_and_silence_when_off():
    assert isinstance(progress_for(True, io.StringIO()), LineProgress)
    assert isinstance(progress_for(True, _Tty()), RichProgress)
    assert progress_for(False) is SILENT and progress_for(None) is SILENT
    mine = LineProgress(io.StringIO())
    assert progress_for(mine) is mine


def test_rich_progress_draws_a_bar_and_ends_the_phase():
    from rich.console import Console

    out = _Tty()
    prog = RichProgress(Console(file=out, force_terminal=True, width=100))
    with prog.phase("ingest", total=3, unit="media") as step:
        step(3)
    assert "ingest" in out.getvalue() and "3/3" in out.getvalue()


def test_silent_progress_still_runs_the_phase_body():
    ran = []
    with Progress().phase("x", total=1) as step:
        step(1)
        ran.append(True)
    assert ran == [True]
