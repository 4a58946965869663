"""The structure revision (both stores): every write to senses or relations moves it, in the same
transaction; media, evidence, prototype and meta writes do not; the whole-column reads return the live graph."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.graph.core import REVISION_KEY, next_revision
from sensegraph.graph.model import Evidence, GraphPatch, Media, Prototype, Relation, Sense
from sensegraph.graph.undo import capture_merge, unmerge_patch

from .conftest import ENCODER_ID, JOINT_DIM, NATIVE_DIM


def _graph(store) -> None:
    store.upsert_senses([Sense("a", "a"), Sense("b", "b"), Sense("c", "c")])
    store.upsert_relations([Relation("a", "b", "hypernym", 1.0), Relation("c", "b", "hypernym", 1.0)])


def _moves(store, write) -> bool:
    before = store.structure_revision()
    write()
    after = store.structure_revision()
    return after != before


def test_sense_and_relation_writes_move_the_revision(store):
    first = store.structure_revision()
    assert store.structure_revision() == first  # reading it is stable
    assert _moves(store, lambda: store.upsert_senses([Sense("a", "a")]))
    assert _moves(store, lambda: store.upsert_senses([Sense("b", "b"), Sense("c", "c")]))
    assert _moves(store, lambda: store.upsert_relations([Relation("a", "b", "hypernym", 1.0)]))
    assert _moves(store, lambda: store.upsert_senses([Sense("a", "a new label")]))
    assert _moves(store, lambda: store.delete_relations([Relation("a", "b", "hypernym", 1.0)]))
    assert _moves(store, lambda: store.set_redirect("c", "b"))
    assert _moves(store, lambda: store.set_redirect("c", None))
    assert _moves(store, lambda: store.apply_patch(GraphPatch(relations=(Relation("c", "a", "hypernym", 1.0),))))
    counter = int(store.structure_revision().split("-")[0])
    assert counter > int(first.split("-")[0])  # a counter under the random suffix


def test_merge_split_and_undo_move_the_revision(store):
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    _graph(store)
    store.upsert_media([Media("m1", "file:///m1", embedding=np.ones(JOINT_DIM, np.float32),
                              features=np.ones(NATIVE_DIM, np.float32))])
    store.upsert_evidence([Evidence("m1", "c", 0.9)])
    snap = capture_merge(store, "a", "c")
    assert _moves(store, lambda: store.merge_senses("a", "c"))
    assert _moves(store, lambda: store.apply_patch(unmerge_patch(snap)))  # the editor's undo
    assert store.sense_structure()[0].count("c") == 1
    assert _moves(store, lambda: store.split_sense("a", ["m1"], Sense("a2", "a two")))


def test_media_evidence_prototype_and_meta_writes_leave_it(store):
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    _graph(store)
    vec = np.ones(NATIVE_DIM, np.float32) / np.sqrt(NATIVE_DIM)
    assert not _moves(store, lambda: store.upsert_media([Media("m1", "file:///m1", features=vec * 2)]))
    assert not _moves(store, lambda: store.upsert_evidence([Evidence("m1", "a", 0.9)]))
    assert not _moves(store, lambda: store.set_prototypes([Prototype("a", vec, media_count=1)]))
    assert not _moves(store, lambda: store.set_prototypes([Prototype("b", vec, source="propagated", strategy="x")]))
    assert not _moves(store, lambda: store.clear_prototype("b", propagated=True))
    assert not _moves(store, lambda: store.set_meta("note", "x"))
    assert not _moves(store, lambda: store.upsert_relations([]))  # nothing written


def test_a_failed_structure_write_leaves_the_revision(store):
    _graph(store)
    before = store.structure_revision()
    with pytest.raises(Exception):
        store.apply_patch(GraphPatch(relations=(Relation("a", "nowhere", "hypernym", 1.0),)))
    assert store.structure_revision() == before


def test_a_store_without_a_revision_claims_one_and_a_wipe_forgets_it(store):
    _graph(store)
    token = store.structure_revision()
    store.wipe()
    assert store.get_meta(REVISION_KEY) is None
    fresh = store.structure_revision()
    assert fresh != token and store.get_meta(REVISION_KEY) == fresh


def test_the_whole_column_reads_give_the_live_graph(store):
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    _graph(store)
    store.set_redirect("c", "b")
    live, relations = store.sense_structure()
    assert sorted(live) == ["a", "b"]
    assert sorted(relations) == [("a", "b", "hypernym"), ("c", "b", "hypernym")]
    vec = np.ones(NATIVE_DIM, np.float32) / np.sqrt(NATIVE_DIM)
    store.set_prototypes([Prototype("a", vec, media_count=1), Prototype("b", vec, source="propagated", strategy="x")])
    assert store.own_prototype_ids() == ["a"]


def test_next_revision_counts_and_never_repeats():
    assert next_revision(None).startswith("1-") and next_revision("41-abc").startswith("42-")
    assert next_revision("not a counter").startswith("1-")
    assert len({next_revision("7-x") for _ in range(50)}) == 50
