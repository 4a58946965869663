"""A small in-process memo of recent text embeddings, shared by the linker and the search engine."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class RecentTexts:
    """Wraps a text-embedding function; the last ``size`` distinct texts are answered from memory.

    A short query's context window (what the linker embeds) is the query itself, so the engine's
    joint-space embedding of that query is a hit: one transformer pass per search instead of two.
    """

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], size: int = 256) -> None:
        self.embed = embed
        self.size = size
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts or any(not isinstance(t, str) for t in texts):
            return self.embed(texts)  # the wrapped function shapes the empty answer or names the bad item
        with self._lock:
            found = {t: self._memo[t] for t in texts if t in self._memo}
            for t in found:
                self._memo.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = np.asarray(self.embed(missing), dtype=np.float32)
            found.update(zip(missing, fresh))
            with self._lock:
                self._memo.update(zip(missing, fresh))
                while len(self._memo) > self.size:
                    self._memo.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def clear(self) -> None:
        with self._lock:
            self._memo.clear()
