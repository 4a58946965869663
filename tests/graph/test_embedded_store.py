"""What only the EmbeddedStore promises: persistence, corruption refusal, atomic writes, the IVF index, locking."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from filelock import FileLock

from sensegraph.errors import StoreError, ValidationError
from sensegraph.graph import open_store
from sensegraph.graph.embedded import DB_FILE, LOCK_FILE, EmbeddedStore
from sensegraph.graph.model import Evidence, Media, MediaFilter, Prototype, Relation, Sense

DIM = 32


def random_media(rng, n: int, start: int = 0, modality=lambda i: "image") -> list[Media]:
    vecs = rng.normal(size=(n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [Media(f"m{start + i:05d}", f"file:///{start + i}", modality(start + i), embedding=vecs[i], features=vecs[i][:16])
            for i in range(n)]


def exact_topk(ms: list[Media], q: np.ndarray, k: int, keep=lambda m: True) -> list[str]:
    pool = [m for m in ms if keep(m)]
    scores = np.array([float(m.embedding @ q) for m in pool])
    return [pool[i].media_id for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path / "store")
    yield s
    s.close()


def test_open_store_on_a_directory_gives_an_embedded_store_with_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = open_store("relative/dir", ann_threshold=5)
    try:
        assert isinstance(s, EmbeddedStore) and s.name == "embedded" and s.ann_threshold == 5
        assert s.describe() == str(tmp_path / "relative" / "dir") and os.path.isabs(s.describe())
        assert (tmp_path / "relative" / "dir" / DB_FILE).is_file()
    finally:
        s.close()
    with pytest.raises(ValidationError, match="ann_treshold"):
        open_store(str(tmp_path / "x"), ann_treshold=5)


def test_a_file_where_the_directory_should_be_is_refused(tmp_path):
    (tmp_path / "f").write_text("not a directory")
    with pytest.raises(StoreError, match="not a directory"):
        EmbeddedStore(tmp_path / "f")


def test_reopening_the_directory_shows_the_same_data(tmp_path, rng):
    d = tmp_path / "store"
    s = EmbeddedStore(d)
    s.bind_encoder("enc", DIM, 16)
    ms = random_media(rng, 20)
    s.upsert_media(ms)
    s.upsert_senses([Sense("n1", "one", "first"), Sense("n2", "two")])
    s.upsert_relations([Relation("n1", "n2", "hypernym", 0.5)])
    s.upsert_evidence([Evidence("m00003", "n1", 0.7)])
    s.set_prototypes([Prototype("n1", ms[3].features, "media", media_count=1, weight=0.7)])
    before = (s.counts(), s.search_media(ms[0].embedding, 5), s.get_senses(["n1", "n2"]))
    s.close()
    s2 = EmbeddedStore(d)
    try:
        assert (s2.counts(), s2.search_media(ms[0].embedding, 5), s2.get_senses(["n1", "n2"])) == before
        assert s2.search_prototypes(ms[3].features, 1)[0][0] == "n1"
        s2.bind_encoder("enc", DIM, 16)  # the binding persisted: same again is fine
    finally:
        s2.close()


@pytest.mark.parametrize("damage", ["header", "page"])
def test_a_corrupted_database_is_refused_with_store_error(tmp_path, damage):
    d = tmp_path / "store"
    s = EmbeddedStore(d)
    s.upsert_senses([Sense(f"s{i}", f"label {i}", "gloss " * 20) for i in range(3000)])
    s.close()
    path = d / DB_FILE
    data = bytearray(path.read_bytes())
    if damage == "header":
        data[:16] = b"garbage garbage!"
    else:
        for off in range(10 * 4096, 11 * 4096, 7):
            data[off] = 0xAB
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"store at .* is corrupted"):
        EmbeddedStore(d)


def test_a_crash_in_the_middle_of_a_write_leaves_the_store_as_before_or_after(tmp_path):
    """Kill -9 a process during one big upsert: the store opens clean with all or none of it."""
    d = tmp_path / "store"
    script = textwrap.dedent(f"""
        import sys
        from sensegraph.graph.embedded import EmbeddedStore
        from sensegraph.graph.model import Sense
        s = EmbeddedStore({str(d)!r})
        s.upsert_senses([Sense(f"a{{i}}", "before") for i in range(10)])
        print("ready", flush=True)
        s.upsert_senses([Sense(f"b{{i}}", "big write", "x" * 200) for i in range(300000)])
        print("done", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    finished = "done" in proc.communicate(timeout=30)[0]
    s = EmbeddedStore(d)
    try:
        assert s.counts()["senses"] == (300010 if finished else 10)
        assert len(s.get_senses([f"a{i}" for i in range(10)])) == 10
    finally:
        s.close()


def test_writes_wait_for_the_directory_write_lock_and_fail_clearly(tmp_path):
    d = tmp_path / "store"
    s = EmbeddedStore(d, lock_timeout=0.2)
    try:
        with FileLock(str(d / LOCK_FILE)):
            with pytest.raises(StoreError, match="locked by another writer"):
                s.upsert_senses([Sense("n1", "one")])
            assert s.get_senses(["n1"]) == {}  # reads do not need the lock
        s.upsert_senses([Sense("n1", "one")])
        assert set(s.get_senses(["n1"])) == {"n1"}
    finally:
        s.close()


def test_another_instance_sees_new_media_and_prototypes_in_its_search(tmp_path, rng):
    d = tmp_path / "store"
    a, b = EmbeddedStore(d), EmbeddedStore(d)
    try:
        ms = random_media(rng, 10)
        a.upsert_media(ms[:5])
        assert len(b.search_media(ms[0].embedding, 10)) == 5  # b caches 5 rows
        a.upsert_media(ms[5:])
        assert b.search_media(ms[7].embedding, 1)[0][0] == ms[7].media_id
        assert len(b.search_media(ms[0].embedding, 10)) == 10
        # a changed vector replaces the cached row
        moved = Media(ms[2].media_id, ms[2].uri, embedding=ms[9].embedding)
        a.upsert_media([moved])
        top = b.search_media(ms[9].embedding, 2)
        assert {m for m, _ in top} == {ms[2].media_id, ms[9].media_id}
        a.upsert_senses([Sense("n1", "one")])
        assert b.search_prototypes(ms[0].features, 3) == []
        a.set_prototypes([Prototype("n1", ms[0].features, "media")])
        assert b.search_prototypes(ms[0].features, 3)[0][0] == "n1"
    finally:
        a.close()
        b.close()


def test_bad_vectors_and_queries_are_rejected_naming_what_is_wrong(store, rng):
    store.bind_encoder("enc", DIM, 16)
    with pytest.raises(ValidationError, match="'bad' embedding"):
        store.upsert_media([Media("bad", "u", embedding=np.ones(DIM + 1, dtype=np.float32))])
    with pytest.raises(ValidationError, match="NaN"):
        store.upsert_media([Media("nan", "u", embedding=np.full(DIM, np.nan, dtype=np.float32))])
    with pytest.raises(ValidationError, match="modality"):
        store.upsert_media([Media("m", "u", modality="smell")])
    store.upsert_media(random_media(rng, 3))
    with pytest.raises(ValidationError, match="dimension"):
        store.search_media(np.ones(5), 3)
    with pytest.raises(ValidationError, match="all zeros"):
        store.search_media(np.zeros(DIM), 3)
    with pytest.raises(ValidationError, match="space"):
        store.search_media(np.ones(DIM), 3, space="audio")
    with pytest.raises(ValidationError, match="k must be"):
        store.search_media(np.ones(DIM), 0)
    assert store.counts()["media"] == 3


def test_wipe_empties_everything_including_the_encoder_binding(store, rng):
    store.bind_encoder("enc", DIM, 16)
    store.upsert_media(random_media(rng, 5))
    store.upsert_senses([Sense("n1", "one")])
    store.set_prototypes([Prototype("n1", np.ones(16, dtype=np.float32), "curated")])
    assert store.search_media(np.ones(DIM), 2)
    store.wipe()
    assert set(store.counts().values()) == {0}
    assert store.search_media(np.ones(DIM), 2) == [] and store.search_prototypes(np.ones(16), 2) == []
    store.bind_encoder("other", 4, 4)


def test_sense_graph_has_senses_as_nodes_and_relations_as_typed_edges(store):
    store.upsert_senses([Sense("a", "A"), Sense("b", "B"), Sense("c", "C")])
    store.upsert_relations([Relation("a", "b", "hypernym", 1.0), Relation("c", "b", "part_of", 0.5),
                            Relation("a", "b", "related", 0.25)])
    g = store.sense_graph()
    assert set(g.nodes) == {"a", "b", "c"} and g.nodes["a"]["label"] == "A"
    assert set(g.edges) == {("a", "b"), ("c", "b")}
    assert g.edges["a", "b"] == {"type": "hypernym", "weight": 1.0}
    assert g.edges["c", "b"] == {"type": "part_of", "weight": 0.5}


# -- approximate (IVF) path -------------------------------------------------------------------------
def clustered_media(rng, n: int, start: int = 0, modality=lambda i: "image") -> list[Media]:
    """Media around 40 centres, as real embeddings cluster (isotropic noise is IVF's worst case)."""
    centres = np.random.default_rng(7).normal(size=(40, DIM))
    vecs = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    return [Media(f"m{start + i:05d}", f"file:///{start + i}", modality(start + i), embedding=vecs[i], features=vecs[i][:16])
            for i in range(n)]


def test_ivf_search_matches_exact_top_k_and_honours_filters(tmp_path, rng):
    from sensegraph.graph.vector_index import PROBES, n_lists

    d = tmp_path / "store"
    s = EmbeddedStore(d, ann_threshold=100)
    s.bind_encoder("enc", DIM, 16)
    ms = clustered_media(rng, 6000, modality=lambda i: "video" if i % 2 else "image")
    assert n_lists(len(ms)) > 2 * PROBES, "the test must probe a part of the lists, not all"
    s.upsert_media(ms)
    s.upsert_senses([Sense("n_many", "many"), Sense("n_few", "few")])
    s.upsert_evidence([Evidence(m.media_id, "n_many", 0.5) for m in ms[:300:2]]
                      + [Evidence(m.media_id, "n_few", 0.5) for m in ms[100:105]])
    queries = rng.normal(size=(30, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    hits = total = 0
    for q in queries:
        got = s.search_media(q, 10)
        assert len(got) == 10 and all(a[1] >= b[1] for a, b in zip(got, got[1:]))
        hits += len({m for m, _ in got} & set(exact_topk(ms, q, 10)))
        total += 10
    assert (d / "ann-match.faiss").is_file(), "the approximate path was not taken"
    assert hits / total >= 0.95
    # filters inside the IVF scan: k come back, all matching, close to the exact filtered top-k
    videos = {m.media_id for m in ms if m.modality == "video"}
    many = {m.media_id for m in ms[:300:2]}
    hits = 0
    for q in queries[:10]:
        got = [m for m, _ in s.search_media(q, 10, filters=MediaFilter(modality="video"))]
        assert len(got) == 10 and set(got) <= videos
        hits += len(set(got) & set(exact_topk(ms, q, 10, lambda m: m.media_id in videos)))
        got = [m for m, _ in s.search_media(q, 10, filters=MediaFilter(sense_id="n_many"))]
        assert len(got) == 10 and set(got) <= many
        hits += len(set(got) & set(exact_topk(ms, q, 10, lambda m: m.media_id in many)))
        got = s.search_media(q, 10, filters=MediaFilter(sense_id="n_few"))
        assert {m for m, _ in got} == {m.media_id for m in ms[100:105]}
    assert hits / 200 >= 0.95
    # new media are added to the index incrementally and found at once
    new = clustered_media(rng, 30, start=6000)
    s.upsert_media(new)
    for m in new[:5]:
        assert s.search_media(m.embedding, 1)[0][0] == m.media_id
    s.close()
    # the saved index is reused after reopening (not rebuilt) and answers the same
    mtime = (d / "ann-match.faiss").stat().st_mtime_ns
    s2 = EmbeddedStore(d, ann_threshold=100)
    try:
        for m in new[5:10]:
            assert s2.search_media(m.embedding, 1)[0][0] == m.media_id
        assert (d / "ann-match.faiss").stat().st_mtime_ns == mtime
    finally:
        s2.close()
    # an index saved by another kind (the hnswlib graph of earlier versions) is rebuilt, not trusted,
    # and the old graph files are removed
    meta_path = d / "ann-match.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "kind": "hnsw"}))
    (d / "hnsw-joint.bin").write_bytes(b"old graph")
    s3 = EmbeddedStore(d, ann_threshold=100)
    try:
        assert s3.search_media(new[0].embedding, 1)[0][0] == new[0].media_id
        s3.close()
        assert json.loads(meta_path.read_text())["kind"] == "ivf-flat"
        assert (d / "ann-match.faiss").stat().st_mtime_ns != mtime
        assert not (d / "hnsw-joint.bin").exists()
    finally:
        s3.close()


def test_ivf_match_search_finds_the_formula_top_k(tmp_path, rng):
    """The formula query over the paired [joint | native] rows: past the threshold one IVF query
    answers it, close to the formula scored over every medium, filters inside, new media at once."""
    d = tmp_path / "store"
    s = EmbeddedStore(d, ann_threshold=100)
    try:
        ms = clustered_media(rng, 6000, modality=lambda i: "video" if i % 2 else "image")
        s.upsert_media(ms)
        joint = np.stack([m.embedding for m in ms])
        native = np.stack([m.features / np.linalg.norm(m.features) for m in ms])
        hits = hits_video = 0
        for _ in range(20):
            qj = 0.7 * clustered_media(rng, 1)[0].embedding
            qn = 0.3 * clustered_media(rng, 1)[0].features / np.linalg.norm(clustered_media(rng, 1)[0].features)
            score = joint @ qj + native @ qn
            got = s.search_match(qj, qn, 10)
            assert len(got) == 10 and all(a[1] >= b[1] for a, b in zip(got, got[1:]))
            np.testing.assert_allclose([sc for _, sc in got], [score[int(m[1:])] for m, _ in got], atol=1e-4)
            hits += len({m for m, _ in got} & {f"m{i:05d}" for i in np.argsort(-score)[:10]})
            video = np.where(np.arange(6000) % 2 == 1, score, -np.inf)
            got = [m for m, _ in s.search_match(qj, qn, 10, filters=MediaFilter(modality="video"))]
            assert len(got) == 10 and all(int(m[1:]) % 2 == 1 for m in got)
            hits_video += len(set(got) & {f"m{i:05d}" for i in np.argsort(-video)[:10]})
        assert (d / "ann-match.faiss").is_file(), "the approximate path was not taken"
        assert hits / 200 >= 0.95 and hits_video / 200 >= 0.95
        new = clustered_media(rng, 20, start=6000)
        s.upsert_media(new)
        for m in new[:5]:  # a medium is its own best match: both parts at cosine 1
            assert s.search_match(0.5 * m.embedding, 0.5 * m.features / np.linalg.norm(m.features), 1)[0][0] == m.media_id
    finally:
        s.close()


def test_ivf_search_in_one_space_returns_only_media_with_a_vector_there(tmp_path, rng):
    """One index holds the paired rows; a search in one space must not return media that lack a
    vector there (their part would score 0 and outrank every negative cosine)."""
    s = EmbeddedStore(tmp_path / "store", ann_threshold=100)
    try:
        both = clustered_media(rng, 300)
        joint_only = [Media(m.media_id.replace("m", "j"), "", "image", embedding=m.embedding) for m in clustered_media(rng, 3000, start=300)]
        s.upsert_media(both + joint_only)
        with_features = {m.media_id for m in both}
        for _ in range(5):
            q = rng.normal(size=16).astype(np.float32)
            got = s.search_media(q, 200, space="native")  # about half the 300 have a negative cosine
            assert len(got) == 200 and {m for m, _ in got} <= with_features
            f = np.stack([m.features / np.linalg.norm(m.features) for m in both]) @ (q / np.linalg.norm(q))
            np.testing.assert_allclose(got[-1][1], np.sort(f)[::-1][199], atol=1e-4)
        assert (tmp_path / "store" / "ann-match.faiss").is_file(), "the approximate path was not taken"
    finally:
        s.close()


def test_ivf_index_is_retrained_when_the_table_outgrows_it(tmp_path, rng):
    """Lists trained on n rows serve up to GROWTH·n; past that the centroids are retrained for the
    size the table has (more lists), and the search stays right throughout."""
    from sensegraph.graph.vector_index import GROWTH, n_lists

    d = tmp_path / "store"
    s = EmbeddedStore(d, ann_threshold=400)
    try:
        ms = clustered_media(rng, 500)
        s.upsert_media(ms)
        assert s.search_media(ms[0].embedding, 1)[0][0] == ms[0].media_id
        first = json.loads((d / "ann-match.json").read_text())
        assert first["trained_on"] == 500 and first["nlist"] == n_lists(500)
        more = clustered_media(rng, 500 * GROWTH - 500, start=500)  # exactly GROWTH·n: still served
        s.upsert_media(more)
        assert s.search_media(more[-1].embedding, 1)[0][0] == more[-1].media_id
        s.close()
        assert json.loads((d / "ann-match.json").read_text())["trained_on"] == 500
        s = EmbeddedStore(d, ann_threshold=400)
        extra = clustered_media(rng, 10, start=500 * GROWTH)  # one row past it: retrained
        s.upsert_media(extra)
        assert s.search_media(extra[0].embedding, 1)[0][0] == extra[0].media_id
        s.close()
        meta = json.loads((d / "ann-match.json").read_text())
        assert meta["trained_on"] == 500 * GROWTH + 10 and meta["nlist"] == n_lists(500 * GROWTH + 10) > first["nlist"]
    finally:
        s.close()


def test_vector_tables_and_ann_index_load_in_chunks_and_miss_no_row(tmp_path, rng, monkeypatch):
    """Rows are read a chunk at a time (bounded memory at a million media); every row still arrives,
    on a first load, on incremental refreshes and into the IVF index."""
    from sensegraph.graph import embedded

    monkeypatch.setattr(embedded, "_CHUNK", 7)
    d = tmp_path / "store"
    writer, reader = EmbeddedStore(d, ann_threshold=40), EmbeddedStore(d, ann_threshold=40)
    try:
        ms = random_media(rng, 30)
        writer.upsert_media(ms)
        assert len(reader.search_media(ms[0].embedding, 100)) == 30  # exact path, first load
        ms += random_media(rng, 50, start=30)
        writer.upsert_media(ms[30:])
        for m in ms[::9]:  # past the threshold: the index is built, then refreshed
            assert reader.search_media(m.embedding, 1)[0][0] == m.media_id
        more = random_media(rng, 23, start=80)
        writer.upsert_media(more)
        for m in more[::5]:
            assert reader.search_media(m.embedding, 1)[0][0] == m.media_id
            assert reader.search_media(m.features, 1, space="native")[0][0] == m.media_id
        ids, _ = reader.media_vectors([m.media_id for m in ms + more])
        assert len(ids) == 103
    finally:
        writer.close()
        reader.close()

