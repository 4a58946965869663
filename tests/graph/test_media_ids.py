"""The store clause behind "an id names one file": ``upsert_media`` never re-binds an id to other bytes,
on either store, and refuses the whole call (nothing written) when one row would."""
from __future__ import annotations

import pytest

from sensegraph.errors import ValidationError
from sensegraph.graph.media_ids import refuse_rebinding
from sensegraph.graph.model import Media


def _row(store, media_id):
    m = store.get_media([media_id], vectors=False).get(media_id)
    return (m.uri, m.sha256, m.caption) if m else None


def test_an_id_is_not_rebound_to_other_bytes(store):
    store.upsert_media([Media("m0", "file:///a.jpg", "image", "sha-a", caption="first")])
    with pytest.raises(ValidationError, match="'m0' already names a different file"):
        store.upsert_media([Media("m0", "file:///b.jpg", "image", "sha-b", caption="second")])
    assert _row(store, "m0") == ("file:///a.jpg", "sha-a", "first")
    assert store.media_by_sha256("sha-b") is None


def test_the_same_bytes_again_and_rows_without_a_hash_still_update(store):
    store.upsert_media([Media("m0", "file:///a.jpg", "image", "sha-a", caption="first")])
    assert store.upsert_media([Media("m0", "file:///a.jpg", "image", "sha-a", caption="first")]) == 1
    store.upsert_media([Media("m0", "file:///moved/a.jpg", "image", "sha-a", caption="renamed")])
    assert _row(store, "m0") == ("file:///moved/a.jpg", "sha-a", "renamed")
    store.upsert_media([Media("m0", "file:///moved/a.jpg", "image", None, caption="no hash given")])
    assert _row(store, "m0")[2] == "no hash given"


def test_one_bad_row_refuses_the_whole_call(store):
    with pytest.raises(ValidationError, match="'m1' already names a different file"):
        store.upsert_media([Media("m2", "file:///c.jpg", "image", "sha-c"),
                            Media("m1", "file:///x.jpg", "image", "sha-x"),
                            Media("m1", "file:///y.jpg", "image", "sha-y")])
    assert store.counts()["media"] == 0


def test_the_rule_is_pure():
    refuse_rebinding({"a": "s1", "b": None}, [{"media_id": "a", "sha256": "s1"}, {"media_id": "b", "sha256": "s2"},
                                              {"media_id": "a", "sha256": ""}])
    with pytest.raises(ValidationError):
        refuse_rebinding({}, [{"media_id": "a", "sha256": "s1"}, {"media_id": "a", "sha256": "s2"}])
