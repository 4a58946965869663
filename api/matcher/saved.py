"""The trained head lives in the store's metadata with the encoder it was trained for.

Kept inside the store (one metadata row, written in one transaction), it travels with the data and
works the same on the embedded store and Neo4j; a head trained on another encoder's vectors is
refused by name, since its features would mean nothing.
"""
from __future__ import annotations

import json
from typing import Any

from sensegraph.errors import EncoderMismatch, ValidationError

from .head import MatchHead

HEAD_META_KEY = "matcher.head"


def save_head(store: Any, head: MatchHead, encoder_id: str) -> None:
    """Write ``head`` (and the encoder id it was trained for) into ``store``'s metadata."""
    store.set_meta(HEAD_META_KEY, json.dumps({"encoder_id": encoder_id, "head": head.to_json()}))


def load_head(store: Any, encoder_id: str | None) -> MatchHead | None:
    """The saved head, or None when none was trained; ``EncoderMismatch`` when it was trained for
    another encoder than ``encoder_id``."""
    raw = store.get_meta(HEAD_META_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        saved_for = data["encoder_id"]
        body = data["head"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValidationError("the saved match head is not readable; retrain it with sensegraph train-matcher") from None
    if encoder_id is not None and saved_for != encoder_id:
        raise EncoderMismatch(f"the match head in this store was trained for encoder {saved_for!r}, not {encoder_id!r}; "
                              "retrain it with sensegraph train-matcher (or turn it off: search.rerank = false)")
    head = MatchHead.from_json(body)
    head.info["encoder_id"] = saved_for
    return head


def head_summary(store: Any) -> dict[str, Any] | None:
    """What a saved head says about itself (encoder, pairs, when), without its weights."""
    raw = store.get_meta(HEAD_META_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        info = {k: v for k, v in data["head"].get("info", {}).items() if k != "media"}
        return {"encoder_id": data["encoder_id"], "dim": data["head"]["dim"], "hidden": data["head"]["hidden"], **info}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
