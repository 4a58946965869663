"""The recent-texts memo: equal answers to the wrapped function, fewer calls, bounded size."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.encoders.recent import RecentTexts


class Counting:
    """A deterministic text 'encoder' that records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        texts = list(texts)
        if any(not isinstance(t, str) for t in texts):
            raise TypeError(f"texts must be strings, got {texts!r}")
        self.calls.append(texts)
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = [len(t), sum(map(ord, t)) % 97, t.count(" "), 1.0]
        return out


def test_memo_answers_like_the_wrapped_function_and_embeds_each_text_once():
    inner = Counting()
    memo = RecentTexts(inner, size=8)
    got = memo(["a crane", "a crane", "the bank"])
    np.testing.assert_array_equal(got, Counting()(["a crane", "a crane", "the bank"]))
    assert inner.calls == [["a crane", "the bank"]]
    np.testing.assert_array_equal(memo(["the bank"]), got[2:])
    assert len(inner.calls) == 1  # a hit
    memo(["a crane", "new text"])
    assert inner.calls[-1] == ["new text"]


def test_memo_is_bounded_and_clear_forgets():
    inner = Counting()
    memo = RecentTexts(inner, size=2)
    memo(["a"]), memo(["b"]), memo(["a"]), memo(["c"])  # "b" is the least recent and goes
    memo(["a", "c"])
    assert len(inner.calls) == 3
    memo(["b"])
    assert inner.calls[-1] == ["b"]
    memo.clear()
    memo(["a"])
    assert inner.calls[-1] == ["a"]


def test_empty_and_bad_input_reach_the_wrapped_function():
    memo = RecentTexts(Counting())
    assert memo([]).shape == (0, 4)
    with pytest.raises(TypeError, match="strings"):
        memo(["ok", 3])
