"""The embedded store's files under damage: vector-table bookkeeping, the ANN index and database files.

(A kill -9 during a big write and a damaged header/page are covered in tests/graph/test_embedded_store.py.)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sensegraph.errors import ConfigError, StoreError
from sensegraph.graph.embedded import DB_FILE, EmbeddedStore
from sensegraph.graph.model import Media, Sense
from sensegraph.graph.vector_index import VectorTable


def test_vector_table_keeps_every_key_when_fresh_memory_holds_old_keys():
    """Regression: a new row used to pop whatever key its uninitialised slot held, losing a live row's
    key (KeyError in the approximate search path once the store passed ann_threshold media)."""
    t = VectorTable(4)
    rng = np.random.default_rng(0)
    t.upsert(["a", "b", "c"], [1, 2, 3], rng.normal(size=(3, 4)), [None] * 3)
    t._reserve(10)
    t._keys[3:10] = 2  # what np.empty may hand back: values that look like live keys
    t.upsert(["d", "e"], [4, 5], rng.normal(size=(2, 4)), [None] * 2)
    assert t.row_of_key == {1: 0, 2: 1, 3: 2, 4: 3, 5: 4}
    t.upsert(["b"], [7], rng.normal(size=(1, 4)), [None])  # a replaced row gives up its old key
    assert t.row_of_key == {1: 0, 7: 1, 3: 2, 4: 3, 5: 4}


ANN_SCRIPT = textwrap.dedent("""
    import sys, json, numpy as np
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Media
    d, mode = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    v = rng.normal(size=(400, 16)).astype(np.float32)
    s = EmbeddedStore(d, ann_threshold=50)
    if mode == "make":
        s.bind_encoder("e", 16, 8)
        s.upsert_media([Media(f"m{i}", "", "image", embedding=v[i], features=v[i][:8]) for i in range(400)])
    out = [[m for m, _ in s.search_media(v[i], 5)] for i in range(0, 400, 40)]
    s.close()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("damage", ["header", "truncated", "emptied"])
def test_a_damaged_ann_index_file_is_rebuilt_not_trusted(tmp_path, damage):
    """The ANN index is a cache of the database: damaged, searches still give the exact answers."""
    import json

    d = tmp_path / "store"
    script = tmp_path / "ann.py"
    script.write_text(ANN_SCRIPT)
    made = subprocess.run([sys.executable, str(script), str(d), "make"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    index = d / "ann-match.faiss"
    assert index.is_file()
    data = bytearray(index.read_bytes())
    if damage == "header":
        data[:64] = b"\xff" * 64
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data = bytearray()
    index.write_bytes(bytes(data))
    used = subprocess.run([sys.executable, str(script), str(d), "use"], capture_output=True, text=True, timeout=120)
    assert used.returncode == 0, f"search over a damaged index crashed (rc {used.returncode}): {used.stderr[-2000:]}"
    rng = np.random.default_rng(0)
    v = rng.normal(size=(400, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact = [[f"m{j}" for j in np.argsort(-(v @ v[i]), kind="stable")[:5]] for i in range(0, 400, 40)]
    got = json.loads(used.stdout)
    assert [g[0] for g in got] == [e[0] for e in exact]  # each query finds itself first
    assert np.mean([len(set(g) & set(e)) / 5 for g, e in zip(got, exact)]) >= 0.9


def test_a_truncated_database_file_is_refused_naming_the_store(tmp_path):
    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.upsert_senses([Sense(f"s{i}", f"label {i}", "gloss " * 30) for i in range(3000)])
    path = d / DB_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match=r"store at .*store is corrupted"):
        EmbeddedStore(d)


def test_a_store_file_replaced_by_something_else_is_refused(tmp_path):
    d = tmp_path / "store"
    d.mkdir()
    (d / DB_FILE).write_bytes(b"PK\x03\x04 this is a zip file, not a database" * 100)
    with pytest.raises(StoreError, match="corrupted"):
        EmbeddedStore(d)


def test_a_corrupted_embedding_cache_is_a_clear_config_error(tmp_path):
    from sensegraph.encoders.cache import DB_NAME, CachedEncoder

    class Tiny:
        encoder_id, joint_dim, native_dim = "tiny", 4, 4

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / DB_NAME).write_bytes(b"garbage" * 1000)
    with pytest.raises(ConfigError, match=r"embedding cache .* cannot be opened.*delete it"):
        CachedEncoder(Tiny(), cache)


def test_a_copied_store_directory_is_a_working_backup(tmp_path, rng):
    """Copying a closed store directory (graph.sqlite, WAL checkpointed on close) gives the same store."""
    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.bind_encoder("e", 8, 4)
        vecs = rng.normal(size=(30, 8)).astype(np.float32)
        s.upsert_media([Media(f"m{i}", "", "image", embedding=vecs[i], features=vecs[i][:4]) for i in range(30)])
        before = (s.counts(), s.search_media(vecs[3], 4))
    shutil.copytree(d, tmp_path / "copy")
    with EmbeddedStore(tmp_path / "copy") as c:
        assert (c.counts(), c.search_media(vecs[3], 4)) == before


def test_a_store_with_audited_edits_reopens(tmp_path):
    """Regression: SQLite 3.40's quick_check flagged every audit_senses row ("NULL value in
    audit_senses.audit_id", a false positive for WITHOUT ROWID tables keyed out of column order), so
    any store a curator had edited was refused as corrupted on its next open."""
    from sensegraph.graph.model import AuditEntry

    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.upsert_senses([Sense("a", "A"), Sense("b", "B")])
        s.add_audit(AuditEntry("x1", "ann", "2024-01-01T00:00:00", "move", ("a", "b"), "{}", "{}"))
    with EmbeddedStore(d) as s:
        assert [e.audit_id for e in s.audit_log(sense_id="b")] == ["x1"]
