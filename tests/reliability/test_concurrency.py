"""Concurrency: an ingest, curator edits and searches at the same time lose no update; the embedded
store's isolation (one writer at a time through a file lock, readers see whole transactions only)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from sensegraph.errors import StoreError

from .conftest import fill_kg, fresh_store_dir, neo4j_uri


def _records(corpus) -> list[dict]:
    recs = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
    for r in recs:
        r["media"] = str(corpus / r["media"])
    return recs


def _open_target(kind, tmp_path, template, kg, cache_dir) -> str:
    if kind == "embedded":
        return str(fresh_store_dir(template, tmp_path / "store"))
    from sensegraph.graph.factory import open_store

    uri = neo4j_uri()
    with open_store(uri) as s:
        s.wipe()
        fill_kg(s, kg, cache_dir)
    return uri


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_ingest_edits_and_searches_at_once_lose_no_update(kind, tmp_path, template, corpus, clean, kg, cache_dir):
    """One thread ingests record by record, one moves evidence back and forth through the Curator,
    two search; afterwards every move the curator made is in the graph and every prototype equals a
    full recompute from the final evidence."""
    from sensegraph import SenseGraph
    from sensegraph.prototype_updates import PrototypeUpdater

    target = _open_target(kind, tmp_path, template, kg, cache_dir)
    recs = _records(corpus)
    first, second = recs[:20], recs[20:]
    with SenseGraph(target) as sg:
        sg.ingest(first)
        # a medium with a live linker edge to a sense that the second half also evidences
        ev = [e for e in sg.store.evidence() if not e.detached]
        senses = {e.sense_id for e in ev}
        edits = [e for e in ev if e.sense_id in senses][:3]
        assert edits, "the first half should have linked evidence"
        other = next(s for s in sorted(senses) if s not in {e.sense_id for e in edits})
    errors: list[BaseException] = []
    stop = threading.Event()
    final: dict[tuple[str, str], bool] = {}  # (media, sense) -> should count

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                stop.set()
        return run

    def ingester():
        with SenseGraph(target) as sg:
            for r in second:
                sg.ingest([r])
        stop.set()

    def editor():
        with SenseGraph(target) as sg:
            cur = sg.curator("concurrency-test")
            n = 0
            while not stop.is_set() or n < 4:
                e = edits[n % len(edits)]
                src, dst = (e.sense_id, other) if (n // len(edits)) % 2 == 0 else (other, e.sense_id)
                cur.move_evidence([e.media_id], src, dst)
                final[(e.media_id, dst)] = True
                final[(e.media_id, src)] = False
                n += 1

    searches = [0]

    def searcher():
        with SenseGraph(target) as sg:
            while not stop.is_set():
                hits = sg.search("a cup of coffee", k=5)
                assert len(hits) >= 1
                searches[0] += 1

    threads = [threading.Thread(target=guarded(f)) for f in (ingester, editor, searcher, searcher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert searches[0] > 0
    from sensegraph.graph.factory import open_store

    with open_store(target) as s:
        c = s.counts()
        assert c["media"] == clean.counts["media"]
        edges = {(e.media_id, e.sense_id): e for e in s.evidence()}
        for (mid, sid), counts in final.items():  # the curator's last word on every edge it touched
            e = edges[(mid, sid)]
            assert e.source == "editor" and e.detached == (not counts), (mid, sid, e)
        senses = [x.sense_id for batch in s.iter_senses() for x in batch]
        before = s.get_prototypes(senses)
        PrototypeUpdater(s, SenseGraph(s).config.prototypes).rebuild_all()
        after = s.get_prototypes(senses)
    assert set(before) == set(after)
    for sid in after:
        assert before[sid].media_count == after[sid].media_count, sid
        np.testing.assert_allclose(before[sid].vector, after[sid].vector, atol=1e-5, err_msg=sid)


BIG_WRITE = textwrap.dedent("""
    import sys
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Sense
    s = EmbeddedStore(sys.argv[1])
    print("writing", flush=True)
    s.upsert_senses([Sense(f"b{i}", "big write", "x" * 100) for i in range(int(sys.argv[2]))])
    print("done", flush=True)
    s.close()
""")


def test_embedded_store_has_one_writer_and_readers_see_whole_transactions(tmp_path):
    """While another process commits one big write: a second writer waits for the file lock (and
    gives up with StoreError after lock_timeout); readers never block and only ever see the state
    before or after the whole transaction, never a part of it."""
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Sense

    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.upsert_senses([Sense(f"a{i}", "before") for i in range(10)])
    n = 400_000
    script = tmp_path / "big.py"
    script.write_text(BIG_WRITE)
    proc = subprocess.Popen([sys.executable, str(script), str(d), str(n)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    reader = EmbeddedStore(d, lock_timeout=0.3)
    seen, refused = set(), 0
    try:
        t_end = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < t_end:
            seen.add(reader.counts()["senses"])
            try:
                reader.upsert_senses([Sense("late", "a second writer")])
            except StoreError as exc:
                assert "locked by another writer" in str(exc)
                refused += 1
        proc.wait(timeout=60)
        seen.add(reader.counts()["senses"])
        assert seen <= {10, 11, 10 + n, 11 + n}, sorted(seen)  # "late" may land before or after, never a partial write
        assert 10 + n in seen or 11 + n in seen
        assert refused >= 1, "a second writer should have waited for the lock at least once"
        reader.upsert_senses([Sense("late", "a second writer")])
        assert reader.counts()["senses"] == 11 + n
    finally:
        reader.close()
        if proc.poll() is None:
            proc.kill()


def test_a_reader_in_another_process_sees_committed_writes_at_once(tmp_path, rng):
    """Two processes on one directory: what one commits, the other's next search and read return."""
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Media

    d = tmp_path / "store"
    with EmbeddedStore(d) as s:
        s.bind_encoder("e", 8, 4)
    reader = EmbeddedStore(d)
    try:
        vecs = rng.normal(size=(5, 8)).astype(np.float32)
        for i in range(5):
            code = textwrap.dedent(f"""
                import numpy as np
                from sensegraph.graph.embedded import EmbeddedStore
                from sensegraph.graph.model import Media
                with EmbeddedStore({str(d)!r}) as s:
                    s.upsert_media([Media("m{i}", "", "image", embedding=np.array({vecs[i].tolist()}, dtype=np.float32))])
            """)
            subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
            assert reader.search_media(vecs[i], 1)[0][0] == f"m{i}"
            assert reader.counts()["media"] == i + 1
    finally:
        reader.close()
