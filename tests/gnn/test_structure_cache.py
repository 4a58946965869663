"""The sense structure cached under the structure revision: hits while only media, evidence and
prototypes change, misses after a relation, a sense or a merge (both stores), a disk copy for the
embedded store, and the local graph cut from it identical to the one read outward through ``neighbours``."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from sensegraph.gnn.structure import from_columns, neighbourhood
from sensegraph.gnn.structure_cache import FILE, StructureCache
from sensegraph.graph.model import Evidence, Media, Prototype, Relation, Sense
from sensegraph.propagation import OWN_SOURCES, Propagator, prototype_digests

KINDS = ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(params=KINDS)
def small(request, open_test_store, tmp_path):
    """A store of each kind with five senses in a chain a-b-c-d-e (hypernyms) and one medium on a."""
    store = open_test_store(request.param, tmp_path / "small")
    store.bind_encoder("test-encoder", 4, 3)
    store.upsert_senses([Sense(s, s) for s in "abcde"])
    store.upsert_relations([Relation(x, y, "hypernym", 1.0) for x, y in ("ab", "bc", "cd", "de")])
    store.upsert_media([Media("m1", "file:///m1", embedding=np.ones(4, np.float32), features=np.ones(3, np.float32))])
    try:
        yield store
    finally:
        store.close()


def edges(structure):
    return {(structure.ids[a], structure.ids[b], structure.types[t])
            for a, b, t in zip(structure.src.tolist(), structure.dst.tolist(), structure.typ.tolist())}


def test_a_hit_while_only_media_evidence_and_prototypes_change(small):
    cache = StructureCache()
    first = cache.get(small, use_disk=False)
    assert cache.last == "store" and first.ids == list("abcde")
    assert cache.get(small, use_disk=False) is first and cache.last == "memory"
    small.upsert_evidence([Evidence("m1", "a", 0.9)])
    small.set_prototypes([Prototype("a", np.ones(3, np.float32) / np.sqrt(3), media_count=1)])
    small.set_prototypes([Prototype("b", np.ones(3, np.float32) / np.sqrt(3), source="propagated", strategy="x")])
    small.upsert_media([Media("m2", "file:///m2", features=np.ones(3, np.float32))])
    assert cache.get(small, use_disk=False) is first and cache.last == "memory"


@pytest.mark.parametrize("change", ["relation", "sense", "merge", "delete"])
def test_a_miss_after_the_graph_changes(small, change):
    cache = StructureCache()
    before = cache.get(small, use_disk=False)
    if change == "relation":
        small.upsert_relations([Relation("a", "e", "similar", 1.0)])
    elif change == "sense":
        small.upsert_senses([Sense("f", "f")])
    elif change == "merge":
        small.merge_senses("b", "c")
    else:
        small.delete_relations([Relation("d", "e", "hypernym", 1.0)])
    after = cache.get(small, use_disk=False)
    assert cache.last == "store" and after.revision != before.revision
    want = {"relation": (list("abcde"), edges(before) | {("a", "e", "similar")}),
            "sense": (list("abcdef"), edges(before)),
            "merge": (list("abde"), {("a", "b", "hypernym"), ("b", "d", "hypernym"), ("d", "e", "hypernym")}),
            "delete": (list("abcde"), edges(before) - {("d", "e", "hypernym")})}[change]
    assert (after.ids, edges(after)) == want


def test_a_write_while_the_columns_are_read_is_used_once_not_kept(small, monkeypatch):
    cache = StructureCache()
    real = small.sense_structure

    def racing():
        read = real()
        small.upsert_relations([Relation("a", "c", "similar", 1.0)])  # lands between the two revision reads
        return read

    monkeypatch.setattr(small, "sense_structure", racing)
    stale = cache.get(small, use_disk=False)
    monkeypatch.setattr(small, "sense_structure", real)
    fresh = cache.get(small, use_disk=False)
    assert cache.last == "store" and ("a", "c", "similar") in edges(fresh) - edges(stale)


def test_the_embedded_store_keeps_a_disk_copy_for_the_next_process(tmp_path):
    from sensegraph.graph.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "s")
    store.upsert_senses([Sense(s, s) for s in ("x\x00", "y", "zé")])
    store.upsert_relations([Relation("x\x00", "y", "hypernym", 1.0), Relation("zé", "y", "part", 1.0)])
    built = StructureCache().get(store)
    assert (tmp_path / "s" / FILE).is_file()
    later = StructureCache()  # another process: nothing in memory
    loaded = later.get(store)
    assert later.last == "disk" and loaded.ids == built.ids == ["x\x00", "y", "zé"]
    assert edges(loaded) == edges(built) and loaded.types == built.types
    store.upsert_relations([Relation("x\x00", "zé", "similar", 1.0)])
    third = StructureCache()
    assert ("x\x00", "zé", "similar") in edges(third.get(store)) and third.last == "store"  # the old file is ignored
    (tmp_path / "s" / FILE).write_bytes(b"not an npz")
    fourth = StructureCache()
    assert edges(fourth.get(store)) == edges(third.get(store)) and fourth.last == "store"
    assert StructureCache().get(store).ids == built.ids and (tmp_path / "s" / FILE).stat().st_size > 100  # rewritten
    store.close()


def reference_local_graph(store, hops, seeds):
    """The local graph as the update read it before the cache: record by record, outward from the seeds."""
    def senses(ids):
        return {sid: s for sid, s in store.get_senses(ids).items() if not s.redirect_to}

    live = senses(seeds)
    rels = {}
    frontier = sorted(live)
    for _ in range(hops):
        touching = store.neighbours(frontier)
        found = senses(sorted({x for r in touching for x in (r.source, r.target)} - set(live)))
        live.update(found)
        rels.update(((r.source, r.target, r.type), r) for r in touching)
        frontier = sorted(found)
        if not frontier:
            break
    rels.update(((r.source, r.target, r.type), r) for r in store.neighbours(frontier))
    own = sorted(s for s, v in live.items() if v.prototype_source in OWN_SOURCES)
    ids = own + sorted(set(live) - set(own))
    index = {s: i for i, s in enumerate(ids)}
    types: dict[str, int] = {}
    kept = [(index[a], index[b], types.setdefault(t, len(types))) for (a, b, t) in sorted(rels)
            if a in index and b in index and a != b]
    return ids, len(own), [[a for a, _, _ in kept], [b for _, b, _ in kept]], [t for *_, t in kept], list(types)


def test_the_cut_is_the_neighbourhood_read_outward_exactly(store):
    """On the WordNet subgraph with a merge (a redirected sense), a self-loop and a relation to an unknown
    sense: the same ids in the same order, the same edges in the same order and the same type numbers."""
    store.merge_senses("n07747607", "n07749731")  # orange takes in lemon's sibling: a redirect
    store.upsert_relations([Relation("n04033425", "n04033425", "similar", 1.0), Relation("n04033425", "ghost", "x", 1.0)])
    own = sorted(prototype_digests(store))
    structure = StructureCache().get(store, use_disk=False)
    for hops, seeds in ((4, own[:5]), (2, own[-3:]), (4, own), (1, ["n07749731", own[0]])):
        ids, n_own, pairs, rel, types = reference_local_graph(store, hops, seeds)
        local = neighbourhood(structure, structure.within(structure.rows(seeds), hops),
                              structure.rows(store.own_prototype_ids()))
        assert local.ids == ids and local.own == n_own and local.types == types
        assert local.pairs.tolist() == pairs and local.rel.tolist() == rel


def test_from_columns_drops_what_is_not_between_two_live_senses():
    s = from_columns("1-x", ["b", "a", "c"], [("a", "b", "t"), ("a", "b", "t"), ("a", "a", "t"), ("a", "zz", "t"),
                                              ("c", "a", "s"), ("a", "b", "s")])
    assert s.ids == ["a", "b", "c"] and s.types == ["s", "t"]
    assert list(zip(s.src.tolist(), s.dst.tolist(), s.typ.tolist())) == [(0, 1, 0), (0, 1, 1), (2, 0, 0)]
    assert s.rows(["c", "nope", "a", "a"]).tolist() == [0, 2]


def _written(store):
    ids = [s.sense_id for b in store.iter_senses() for s in b]
    return {sid: (p.vector.tobytes(), p.confidence) for sid, p in store.get_prototypes(ids, propagated=True).items()}


def test_an_update_writes_the_same_bits_from_the_store_from_memory_and_from_disk(template_store, tmp_path, monkeypatch):
    """The automatic update's result does not depend on where its structure came from."""
    from sensegraph.gnn import structure_cache

    from sensegraph.graph.embedded import EmbeddedStore

    results, origins = [], []
    for name in ("store", "memory", "disk"):
        shutil.copytree(template_store, tmp_path / name)
        (tmp_path / name / FILE).unlink(missing_ok=True)
        store = EmbeddedStore(tmp_path / name)
        try:
            fresh = StructureCache()
            monkeypatch.setattr(structure_cache, "STRUCTURES", fresh)
            if name == "memory":
                fresh.get(store, use_disk=False)
            elif name == "disk":  # as in a new process: another cache wrote the file for this revision
                StructureCache().get(store)
            touched = sorted(prototype_digests(store))
            report = Propagator(store, method="neighbour-mean", directory=tmp_path / name / "gnn").run(
                changed_only=True, touched=touched)
            origins.append(fresh.last)
            assert report.written > 0
            results.append(_written(store))
        finally:
            store.close()
    assert origins == ["store", "memory", "disk"]
    assert results[0] == results[1] == results[2]


def test_the_cut_matches_the_outward_read_on_random_graphs(tmp_path):
    """Random small graphs: type names whose first appearance is not their sorted order, redirects,
    self-loops, duplicates in both directions, relations to unknown senses, own prototypes anywhere."""
    from sensegraph.graph.embedded import EmbeddedStore

    rng = np.random.default_rng(7)
    for trial in range(12):
        store = EmbeddedStore(tmp_path / f"g{trial}")
        store.bind_encoder("test-encoder", 4, 3)
        names = [f"s{i:02d}" for i in rng.permutation(30)]
        store.upsert_senses([Sense(n, n) for n in names])
        rels = {(names[a], names[b] if b < 30 else "unknown", ["zeta", "alpha", "mid"][t], 1.0)
                for a, b, t in zip(rng.integers(0, 30, 60), rng.integers(0, 32, 60), rng.integers(0, 3, 60))}
        store.upsert_relations([Relation(*r) for r in rels])
        for drop in rng.choice(names, 3, replace=False):
            store.set_redirect(str(drop), names[0] if drop != names[0] else names[1])
        vec = np.ones(3, np.float32) / np.sqrt(3)
        store.set_prototypes([Prototype(str(n), vec, media_count=1) for n in rng.choice(names, 6, replace=False)])
        structure = StructureCache().get(store, use_disk=False)
        for hops in (1, 2, 4):
            seeds = [str(n) for n in rng.choice(names, 3, replace=False)]
            ids, n_own, pairs, rel, types = reference_local_graph(store, hops, seeds)
            local = neighbourhood(structure, structure.within(structure.rows(seeds), hops),
                                  structure.rows(store.own_prototype_ids()))
            assert (local.ids, local.own, local.types) == (ids, n_own, types)
            assert local.pairs.tolist() == pairs and local.rel.tolist() == rel
        store.close()


def test_an_import_leaves_the_structure_for_the_first_ingest(tmp_path):
    """``import_kg`` builds the structure (saved beside an embedded store) while propagation.auto is on."""
    from pathlib import Path

    from sensegraph import SenseGraph

    example = Path(__file__).resolve().parents[2] / "examples" / "sports.jsonl"
    with SenseGraph(str(tmp_path / "on")) as sg:
        sg.import_kg(example)
        cache = StructureCache()
        got = cache.get(sg.store)
        assert cache.last == "disk" and len(got.ids) == sg.store.counts()["senses"] and got.src.size > 0
    with SenseGraph(str(tmp_path / "off"), config={"propagation": {"auto": False}}) as sg:
        sg.import_kg(example)
    assert not (tmp_path / "off" / FILE).exists()
