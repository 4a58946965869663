"""CachedEncoder: the same bytes never reach the model twice, and cached numbers equal fresh ones."""
from __future__ import annotations

import io
import sqlite3

import numpy as np
import pytest

from sensegraph.encoders import Encoder
from sensegraph.encoders.cache import CachedEncoder
from sensegraph.errors import ConfigError, MediaError


class Counting:
    """Forwards to a real encoder and counts the items it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.encoder_id = inner.encoder_id
        self.joint_dim, self.native_dim = inner.joint_dim, inner.native_dim
        self.media_items = 0
        self.text_items = 0

    def embed_texts(self, texts):
        self.text_items += len(texts)
        return self.inner.embed_texts(texts)

    def embed_media(self, media):
        self.media_items += len(media)
        return self.inner.embed_media(media)


def _jpeg(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def test_same_bytes_cost_no_model_call(conse, photos, tmp_path):
    counting = Counting(conse)
    cached = CachedEncoder(counting, tmp_path / "cache")
    assert isinstance(cached, Encoder) and cached.encoder_id == conse.encoder_id
    cat, cup = _jpeg(photos["chelsea"]), _jpeg(photos["coffee"])
    path = tmp_path / "cat-copy.jpg"
    path.write_bytes(cat)

    first = cached.embed_media([cat, cup, cat])
    assert counting.media_items == 2  # the duplicate in the batch is embedded once
    again = cached.embed_media([path, cup])  # same bytes under another name
    assert counting.media_items == 2 and cached.stats.hits == 1 + 2  # in-batch duplicate + both
    np.testing.assert_array_equal(again.joint, first.joint[[0, 1]])
    np.testing.assert_array_equal(again.native, first.native[[0, 1]])
    assert again.labels[0] == first.labels[0] and again.labels[0][0][0].startswith("n0")

    fresh = conse.embed_media([cat])
    np.testing.assert_allclose(first.joint[0], fresh.joint[0], atol=1e-6)

    reopened = CachedEncoder(Counting(conse), tmp_path / "cache")  # persists across instances
    reopened.embed_media([cup])
    assert reopened.inner.media_items == 0 and reopened.stats.hits == 1


def test_texts_cached(conse, tmp_path):
    counting = Counting(conse)
    cached = CachedEncoder(counting, tmp_path)
    a = cached.embed_texts(["a cup of coffee", "a tabby cat", "a cup of coffee"])
    b = cached.embed_texts(["a tabby cat"])
    assert counting.text_items == 2
    np.testing.assert_array_equal(a[1], b[0])
    np.testing.assert_allclose(a, conse.embed_texts(["a cup of coffee", "a tabby cat", "a cup of coffee"]), atol=1e-5)


def test_keyed_by_encoder_id(conse, photos, tmp_path):
    from sensegraph.encoders.conse import ConseEncoder

    other = Counting(ConseEncoder(top=3, text_encoder=conse.text))
    CachedEncoder(Counting(conse), tmp_path).embed_media([photos["coffee"]])
    CachedEncoder(other, tmp_path).embed_media([photos["coffee"]])
    assert other.media_items == 1  # another encoder_id never reads this encoder's rows
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        ids = {row[0] for row in db.execute("SELECT encoder_id FROM embeddings")}
    assert ids == {conse.encoder_id, other.encoder_id}


def test_errors(conse, tmp_path):
    cached = CachedEncoder(conse, tmp_path)
    with pytest.raises(MediaError, match="medium #1 .*empty"):
        cached.embed_media([_jpeg(__import__("PIL.Image").Image.new("RGB", (8, 8))), b""])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "embeddings.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match="cannot be opened"):
        CachedEncoder(conse, bad)
