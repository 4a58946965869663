"""``known_keywords``: a misspelt keyword argument fails naming every valid one (Python's own TypeError names only the bad one)."""
from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def unknown_keywords_message(name: str, unknown: list[str], valid: list[str]) -> str:
    """``search() got unknown keyword argument 'alpah' (did you mean 'alpha'?); valid: alpha, beta, …``."""
    parts = []
    for u in unknown:
        close = difflib.get_close_matches(u, valid, n=1)
        parts.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    noun = "argument" if len(unknown) == 1 else "arguments"
    return f"{name}() got unknown keyword {noun} {', '.join(parts)}; valid: {', '.join(valid)}"


def known_keywords(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``fn`` so an unknown keyword raises a TypeError listing the valid keywords; signature kept."""
    params = inspect.signature(fn).parameters
    accepted = {n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    valid = [n for n, p in params.items() if n not in ("self", "cls") and n in accepted]

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unknown = [k for k in kwargs if k not in accepted]
        if unknown:
            raise TypeError(unknown_keywords_message(fn.__name__, unknown, valid))
        return fn(*args, **kwargs)

    return wrapper
