"""The machine-wide text cache: a second store never re-embeds, bad rows and files are rebuilt, writers may race."""
from __future__ import annotations

import multiprocessing
import sqlite3

import numpy as np
import pytest

from sensegraph.encoders.text_cache import DB_NAME, TextCache, text_cache_dir, text_key


class FakeModel:
    """A deterministic text 'model' (vector from the text's hash) that counts what it is asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return np.stack([vector_of(t) for t in texts])


def vector_of(text: str, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(int(text_key(text)[:8], 16))
    v = rng.normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_a_second_cache_on_the_same_folder_calls_no_model(tmp_path):
    texts = ["cat: a feline", "mouse: a rodent", "cat: a feline"]
    model = FakeModel()
    first = TextCache(tmp_path, "model-a", dim=8).embed(texts, model)
    assert model.texts == 2  # the repeated text is embedded once
    again = FakeModel()
    second = TextCache(tmp_path, "model-a", dim=8).embed(texts, again)  # another store, same machine
    assert again.calls == 0
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(second[1], vector_of("mouse: a rodent"))
    other = FakeModel()
    TextCache(tmp_path, "model-b", dim=8).embed(texts, other)  # keyed by the text model
    assert other.texts == 2


@pytest.mark.parametrize("damage", [
    "UPDATE texts SET vector = zeroblob(32)",  # a flipped vector: the checksum fails
    "UPDATE texts SET vector = zeroblob(12)",  # a torn vector: wrong size
    "UPDATE texts SET checksum = 'x'",
])
def test_a_damaged_row_is_re_embedded_not_trusted(tmp_path, damage):
    TextCache(tmp_path, "m", dim=8).embed(["a guitar"], FakeModel())
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute(damage)
    cache, model = TextCache(tmp_path, "m", dim=8), FakeModel()
    out = cache.embed(["a guitar"], model)
    assert model.texts == 1 and cache.stats.rebuilt == 1
    np.testing.assert_allclose(out[0], vector_of("a guitar"))
    fresh = FakeModel()
    TextCache(tmp_path, "m", dim=8).embed(["a guitar"], fresh)  # the rebuilt row is trusted again
    assert fresh.calls == 0


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not a database at all" * 100)
    model = FakeModel()
    out = TextCache(tmp_path, "m", dim=8).embed(["a kettle"], model)
    np.testing.assert_allclose(out[0], vector_of("a kettle"))
    assert list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))
    again = FakeModel()
    TextCache(tmp_path, "m", dim=8).embed(["a kettle"], again)
    assert again.calls == 0


def test_an_unwritable_folder_still_returns_embeddings(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = TextCache(blocker / "sub", "m", dim=8).embed(["a ram"], FakeModel())
    np.testing.assert_allclose(out[0], vector_of("a ram"))


def _writer(args) -> int:
    folder, start = args
    texts = [f"text {i}" for i in range(start, start + 600)]
    TextCache(folder, "m", dim=8).embed(texts, FakeModel())
    return len(texts)


def test_concurrent_writers_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:  # overlapping ranges: the same rows written by several processes at once
        assert pool.map(_writer, [(str(tmp_path), s) for s in (0, 300, 600)]) == [600] * 3
    model = FakeModel()
    texts = [f"text {i}" for i in range(1200)]
    out = TextCache(tmp_path, "m", dim=8).embed(texts, model)
    assert model.calls == 0
    np.testing.assert_allclose(out, np.stack([vector_of(t) for t in texts]))


def test_folder_resolution(monkeypatch, tmp_path):
    for var in ("SENSEGRAPH_TEXT_CACHE_DIR", "SENSEGRAPH_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert text_cache_dir() == tmp_path / "xdg" / "sensegraph"
    monkeypatch.setenv("SENSEGRAPH_CACHE_DIR", str(tmp_path / "all"))
    assert text_cache_dir() == tmp_path / "all"
    monkeypatch.setenv("SENSEGRAPH_TEXT_CACHE_DIR", str(tmp_path / "texts"))
    assert text_cache_dir() == tmp_path / "texts"
    assert text_cache_dir(str(tmp_path / "configured")) == tmp_path / "configured"


def test_a_second_store_links_without_re_embedding_sense_texts(tmp_path, monkeypatch):
    """Two stores with the same senses: the second one's linking finds every sense text in the shared cache."""
    from sensegraph import SenseGraph
    from sensegraph.encoders.text import MiniLMTextEncoder

    counted = {"texts": 0}
    real = MiniLMTextEncoder.embed_texts

    def counting(self, texts):
        counted["texts"] += len(texts)
        return real(self, texts)

    monkeypatch.setattr(MiniLMTextEncoder, "embed_texts", counting)
    shared = tmp_path / "shared-texts"
    results = []
    for name in ("one", "two"):
        cfg = {"encoder": {"cache_dir": str(tmp_path / name / "own-cache"), "text_cache_dir": str(shared)}}
        with SenseGraph(str(tmp_path / name), config=cfg) as sg:
            sg.import_kg("wordnet", synsets=["n02121620", "n02983507", "n02330245", "n03793489"])  # cat, mouse senses
            before = counted["texts"]
            results.append([(m.text, m.sense_id) for m in sg.link("a grey cat chasing a small mouse")])
            results.append(counted["texts"] - before)
    (links_one, links_two), (embedded_one, embedded_two) = results[0::2], results[1::2]
    assert embedded_one > 0 and embedded_two == 0
    assert links_one == links_two and links_one
