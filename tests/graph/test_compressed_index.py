"""The embedded store's compressed vector path: IVF-PQ codes in RAM, float32 rows on disk (np.memmap),
the top rescore·k re-scored exactly, switched on by ``compress_threshold``."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sensegraph.errors import StoreError, ValidationError
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Media, MediaFilter
from sensegraph.graph.vector_index import IvfIndex, VectorTable, pq_shape

DIM, NATIVE = 32, 16


def clustered_media(rng, n: int, start: int = 0, modality=lambda i: "image") -> list[Media]:
    """Media around 40 centres (real embeddings cluster); the native part is the first 16 dims."""
    centres = np.random.default_rng(7).normal(size=(40, DIM))
    vecs = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    return [Media(f"m{start + i:05d}", f"file:///{start + i}", modality(start + i), embedding=vecs[i], features=vecs[i][:NATIVE])
            for i in range(n)]


@pytest.fixture(scope="module")
def media():
    return clustered_media(np.random.default_rng(1234), 6000, modality=lambda i: "video" if i % 2 else "image")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory, media):
    d = tmp_path_factory.mktemp("compressed") / "store"
    with EmbeddedStore(d) as s:
        s.upsert_media(media)
    return d


def formula(media: list[Media]):
    joint = np.stack([m.embedding for m in media])
    native = np.stack([m.features / np.linalg.norm(m.features) for m in media])
    return lambda qj, qn: joint @ qj + native @ qn


def queries(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(99)
    out = []
    for _ in range(n):
        a, b = clustered_media(rng, 2)
        out.append((0.7 * a.embedding, 0.3 * b.features / np.linalg.norm(b.features)))
    return out


def recall_and_error(store: EmbeddedStore, media: list[Media], k: int = 10, filters=None, keep=None):
    """(recall@k against the formula over every medium, largest |returned score - exact score|)."""
    score, pos = formula(media), {m.media_id: i for i, m in enumerate(media)}
    hits, err = 0, 0.0
    qs = queries(20)
    for qj, qn in qs:
        s = score(qj, qn)
        if keep is not None:
            s = np.where(keep, s, -np.inf)
        truth = {media[i].media_id for i in np.argsort(-s, kind="stable")[:k]}
        got = store.search_match(qj, qn, k, filters=filters)
        assert len(got) == k and all(a[1] >= b[1] for a, b in zip(got, got[1:]))
        hits += len(truth & {m for m, _ in got})
        err = max(err, max(abs(float(s[pos[m]]) - x) for m, x in got))
    return hits / (k * len(qs)), err


def test_compressed_search_is_exact_to_the_formula_with_vectors_mapped_from_disk(store_dir, media):
    s = EmbeddedStore(store_dir, ann_threshold=100, compress_threshold=100, rescore=16)
    try:
        rec, err = recall_and_error(s, media)
        assert rec >= 0.95
        assert err < 1e-5, "scores are the exact formula (re-scored from the full rows), not PQ estimates"
        assert json.loads((store_dir / "ann-match.json").read_text())["kind"] == "ivf-pq"
        assert s._search.tables["joint"].spilled and s._search.tables["native"].spilled  # float32 rows are file pages, not heap
        # joint-space search goes through the same compressed index, exact scores, filters inside
        videos = {m.media_id for m in media if m.modality == "video"}
        q = media[11].embedding
        got = s.search_media(q, 10, filters=MediaFilter(modality="video"))
        assert len(got) == 10 and {m for m, _ in got} <= videos and got[0][0] == media[11].media_id
        assert abs(got[0][1] - 1.0) < 1e-5
    finally:
        s.close()
    leftovers = {p.name for p in store_dir.iterdir()} - {"graph.sqlite", "graph.sqlite-wal", "graph.sqlite-shm",
                                                           ".write.lock", "ann-match.faiss", "ann-match.json"}
    assert not leftovers, f"the mapped vector files must not outlive the store: {leftovers}"


def test_rescoring_more_candidates_buys_back_the_recall_codes_lose(store_dir, media, monkeypatch):
    from sensegraph.graph import vector_index

    monkeypatch.setattr(vector_index, "RESCORE_MIN", 0)  # rescore·k alone decides
    recalls = []
    for rescore in (1, 16):
        s = EmbeddedStore(store_dir, ann_threshold=100, compress_threshold=100, rescore=rescore)
        try:
            recalls.append(recall_and_error(s, media)[0])
        finally:
            s.close()
    assert recalls[1] >= 0.95 and recalls[0] < recalls[1] - 0.1, recalls


def test_crossing_the_compress_threshold_switches_the_index_both_ways(store_dir, media):
    s = EmbeddedStore(store_dir, ann_threshold=100, compress_threshold=len(media) + 1)
    meta = store_dir / "ann-match.json"
    try:
        rec, err = recall_and_error(s, media)
        assert json.loads(meta.read_text())["kind"] == "ivf-flat" and not s._search.tables["joint"].spilled
        assert rec >= 0.95 and err < 1e-5
        s.configure_vectors(compress_threshold=len(media), rescore=16)
        rec, err = recall_and_error(s, media)
        assert json.loads(meta.read_text())["kind"] == "ivf-pq" and s._search.tables["joint"].spilled
        assert rec >= 0.95 and err < 1e-5
        keep = np.array([m.modality == "image" for m in media])
        rec, _ = recall_and_error(s, media, filters=MediaFilter(modality="image"), keep=keep)
        assert rec >= 0.95
        s.configure_vectors(compress_threshold=len(media) + 1)
        s.search_match(*queries(1)[0], 10)
        assert json.loads(meta.read_text())["kind"] == "ivf-flat" and not s._search.tables["joint"].spilled
    finally:
        s.close()


def test_a_store_growing_past_the_threshold_moves_its_vectors_to_disk(tmp_path, rng):
    s = EmbeddedStore(tmp_path / "store", ann_threshold=100, compress_threshold=3000, rescore=16)
    try:
        first = clustered_media(rng, 2000)
        s.upsert_media(first)
        s.search_match(first[0].embedding, None, 5)
        assert not s._search.tables["joint"].spilled
        more = clustered_media(rng, 1500, start=2000)
        s.upsert_media(more)
        got = s.search_match(more[3].embedding, None, 5)
        assert got[0][0] == more[3].media_id and s._search.tables["joint"].spilled
        assert len(s._search.tables["joint"]) == 3500
    finally:
        s.close()


def test_bad_vector_settings_are_refused_by_name(tmp_path):
    with pytest.raises(ValidationError, match="rescore"):
        EmbeddedStore(tmp_path / "a", rescore=0)
    with pytest.raises(ValidationError, match="compress_threshold"):
        EmbeddedStore(tmp_path / "b", compress_threshold=-1)
    s = EmbeddedStore(tmp_path / "c")
    try:
        with pytest.raises(ValidationError, match="ann_threshold"):
            s.configure_vectors(ann_threshold="many")  # type: ignore[arg-type]
        assert s.ann_threshold == 20_000
    finally:
        s.close()


def test_a_small_k_still_re_scores_a_floor_of_candidates(store_dir, media):
    s = EmbeddedStore(store_dir, ann_threshold=100, compress_threshold=100, rescore=1)
    try:
        assert recall_and_error(s, media)[0] >= 0.95  # 1·10 candidates alone kept ~0.4 of the top 10
    finally:
        s.close()


def test_a_pq_index_cannot_answer_without_the_full_rows(tmp_path, rng):
    rows = rng.normal(size=(500, 48)).astype(np.float32)
    index = IvfIndex(tmp_path / "i.faiss", 48, "pq")
    index.rebuild(lambda pos: rows[pos], np.arange(500), 0, 0)
    with pytest.raises(StoreError, match="full rows"):
        index.query(rows[0], 5)
    labels, scores = index.query(rows[0], 5, rows=lambda lb: rows[lb])
    assert labels[0] == 0 and np.allclose(scores, rows[labels] @ rows[0], atol=1e-5)
    with pytest.raises(ValidationError, match="kind"):
        IvfIndex(tmp_path / "j.faiss", 48, "hnsw")


def test_pq_shape_uses_eight_dimension_sub_vectors_and_fewer_bits_for_small_samples():
    assert pq_shape(1664, 100_000) == (208, 8)  # 208 bytes a paired 384 + 1280 medium
    assert pq_shape(48, 6000) == (6, 7)
    assert pq_shape(13, 100_000) == (1, 8)


def test_a_spilled_table_grows_and_keeps_its_rows(tmp_path, rng):
    t = VectorTable(4, tmp_path)
    vecs = rng.normal(size=(300, 4)).astype(np.float32)
    for lo in range(0, 300, 50):
        t.upsert([f"v{i}" for i in range(lo, lo + 50)], list(range(lo, lo + 50)), vecs[lo:lo + 50], [None] * 50)
    assert t.spilled and len(t) == 300
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    assert np.allclose(np.asarray(t.matrix), unit, atol=1e-6)
    assert t.search(unit[123], 1)[0][0] == "v123"
    assert not list(tmp_path.iterdir()), "the backing files are unlinked at once"
