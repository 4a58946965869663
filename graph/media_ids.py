"""One rule both stores enforce on ``upsert_media``: an id names one file.

A medium's id, once stored with a content hash, is never re-bound to other bytes (that would give the
old medium new content while it kept its old evidence and prototypes). Pure, so each store only reads
the stored hashes and calls it before writing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sensegraph.errors import ValidationError


def refuse_rebinding(stored: Mapping[str, str | None], rows: Iterable[Mapping[str, object]]) -> None:
    """Raise ``ValidationError`` when a row gives an id other bytes than stored (or than an earlier row)."""
    seen: dict[str, str] = {mid: sha for mid, sha in stored.items() if sha}
    for row in rows:
        mid, sha = str(row["media_id"]), str(row.get("sha256") or "")
        if not sha:
            continue  # a row without a hash updates vectors or metadata only
        old = seen.get(mid)
        if old and old != sha:
            raise ValidationError(
                f"media id {mid!r} already names a different file (sha256 {old[:12]}…, new {sha[:12]}…); "
                "an id names one file: store the new one under its own id")
        seen[mid] = sha
