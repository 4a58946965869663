"""The one JSON Lines reader: every file of objects (manifests, KG files, eval sets, dev queries) is read
here, so a bad line is reported the same way everywhere — ``FILE:LINE: what was wrong``."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ValidationError


def parse_object(text: str, where: str) -> dict[str, Any]:
    """One line as a JSON object; an error names ``where`` (``FILE:LINE``) and what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: expected a JSON object, got {type(data).__name__}")
    return data


def read_lines(path: str | os.PathLike[str], *, what: str = "file", comments: bool = False,
               label: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, stripped text)`` of the non-blank lines (``comments``: ``#`` lines skipped too).

    A file that cannot be opened says ``cannot read <what> 'PATH': why``; text that is not UTF-8 names
    the file (``label``, default its path).
    """
    path = Path(path)
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    with fh:
        try:
            for n, text in enumerate(fh, 1):
                stripped = text.strip()
                if stripped and not (comments and stripped.startswith("#")):
                    yield n, stripped
        except UnicodeDecodeError as exc:
            raise ValidationError(f"{label or path}: not UTF-8 text ({exc.reason})") from None


def read_jsonl(path: str | os.PathLike[str], *, what: str = "file", comments: bool = False,
               label: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``path``, read lazily; errors name
    ``label:LINE`` (default the path) — see ``read_lines`` and ``parse_object``."""
    name = label or str(path)
    for n, text in read_lines(path, what=what, comments=comments, label=name):
        yield n, parse_object(text, f"{name}:{n}")
