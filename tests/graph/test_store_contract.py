"""The store contract: one test per clause, run on every ``GraphStore`` (see conftest ``store``)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sensegraph.errors import EncoderMismatch, NotFound, ValidationError
from sensegraph.graph.model import (
    Alias,
    AuditEntry,
    Entity,
    Evidence,
    GraphPatch,
    HasSense,
    Media,
    MediaFilter,
    Prototype,
    Relation,
    Sense,
)

from sensegraph.graph.undo import capture_merge, unmerge_patch

from .conftest import ENCODER_ID, JOINT_DIM, NATIVE_DIM

COUNT_KEYS = {
    "entities", "aliases", "senses", "relations", "media", "evidence",
    "prototypes_media", "prototypes_curated", "prototypes_propagated", "evidence_gated",
}


# -- helpers -----------------------------------------------------------------------------------------
def unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def media(rng, media_id: str, modality: str = "image", *, joint=True, native=True, **kw) -> Media:
    return Media(
        media_id=media_id, uri=f"file:///{media_id}.jpg", modality=modality, sha256=f"sha-{media_id}",
        embedding=unit(rng, JOINT_DIM) if joint else None, features=unit(rng, NATIVE_DIM) if native else None,
        **kw,
    )


def crane_graph(store) -> None:
    """Two entities sharing the alias 'crane', three senses, relations between them."""
    store.upsert_entities([Entity("e:crane", "crane"), Entity("e:bird", "bird"), Entity("e:machine", "machine")])
    store.upsert_senses([
        Sense("n_crane_bird", "crane (bird)", "large long-necked wading bird"),
        Sense("n_crane_machine", "crane (machine)", "lifts and moves heavy objects"),
        Sense("n_bird", "bird", "warm-blooded egg-laying vertebrate"),
    ])
    store.upsert_aliases([
        Alias("crane", "e:crane"), Alias("Crane", "e:crane"), Alias("Kranich", "e:crane", "de"),
        Alias("bird", "e:bird"), Alias("machine", "e:machine"),
    ])
    store.upsert_has_sense([
        HasSense("e:crane", "n_crane_bird", 1), HasSense("e:crane", "n_crane_machine", 2),
        HasSense("e:bird", "n_bird", 1), HasSense("e:machine", "n_crane_machine", 1),
    ])
    store.upsert_relations([
        Relation("n_crane_bird", "n_bird", "hypernym", 1.0),
        Relation("n_crane_machine", "n_bird", "related", 0.2),
    ])


def snapshot(store) -> dict:
    """Everything the edits may touch, in comparable form."""
    senses = [s for batch in store.iter_senses(batch_size=2) for s in batch]
    relations = [r for batch in store.iter_relations(batch_size=2) for r in batch]
    return {
        "counts": store.counts(),
        "senses": sorted(senses, key=lambda s: s.sense_id),
        "relations": sorted(relations, key=lambda r: (r.source, r.target, r.type)),
        "evidence": sorted(_all_evidence(store, senses), key=lambda e: (e.media_id, e.sense_id)),
        "alias_table": sorted(store.alias_table(), key=lambda a: (a.alias, a.lang, a.entity_id, a.sense_id)),
    }


def _all_evidence(store, senses) -> list[Evidence]:
    return [e for s in senses for e in store.evidence(sense_id=s.sense_id)]


# -- idempotency ---------------------------------------------------------------------------------------
def test_every_upsert_is_idempotent(bound, rng):
    crane_graph(bound)
    ms = [media(rng, f"m{i}") for i in range(3)]
    bound.upsert_media(ms)
    ev = [Evidence("m0", "n_crane_bird", 0.9), Evidence("m1", "n_crane_bird", 0.4, "classifier")]
    bound.upsert_evidence(ev)
    proto = Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "media", media_count=2)
    bound.set_prototypes([proto])
    first = snapshot(bound)
    crane_graph(bound)
    bound.upsert_media(ms)
    bound.upsert_evidence(ev)
    bound.set_prototypes([proto])
    second = snapshot(bound)
    assert second == first
    assert first["counts"]["media"] == 3 and first["counts"]["evidence"] == 2
    assert first["counts"]["senses"] == 3 and first["counts"]["relations"] == 2


def test_upsert_senses_updates_label_and_gloss_but_keeps_prototype_and_evidence(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.8)])
    vec = unit(rng, NATIVE_DIM)
    bound.set_prototypes([Prototype("n_bird", vec, "curated")])
    bound.upsert_senses([Sense("n_bird", "Bird!", "new gloss", media_count=99, prototype_source=None)])
    s = bound.get_senses(["n_bird"])["n_bird"]
    assert (s.label, s.gloss) == ("Bird!", "new gloss")
    assert s.media_count == 1 and s.prototype_source == "curated"
    np.testing.assert_allclose(bound.get_prototypes(["n_bird"])["n_bird"].vector, vec, atol=1e-6)
    assert [e.media_id for e in bound.evidence(sense_id="n_bird")] == ["m0"]


# -- aliases -------------------------------------------------------------------------------------------
def test_alias_table_has_one_row_per_alias_entity_sense_with_rank(store):
    crane_graph(store)
    rows = {(a.alias, a.lang, a.entity_id, a.sense_id, a.rank) for a in store.alias_table()}
    assert rows == {
        ("crane", "en", "e:crane", "n_crane_bird", 1), ("crane", "en", "e:crane", "n_crane_machine", 2),
        ("Crane", "en", "e:crane", "n_crane_bird", 1), ("Crane", "en", "e:crane", "n_crane_machine", 2),
        ("Kranich", "de", "e:crane", "n_crane_bird", 1), ("Kranich", "de", "e:crane", "n_crane_machine", 2),
        ("bird", "en", "e:bird", "n_bird", 1), ("machine", "en", "e:machine", "n_crane_machine", 1),
    }
    assert len(store.alias_table()) == len(rows)


def test_aliases_of_a_sense_are_the_names_of_its_entities(store):
    crane_graph(store)
    got = {(a.text, a.entity_id, a.lang) for a in store.aliases_of("n_crane_machine")}
    assert got == {("crane", "e:crane", "en"), ("Crane", "e:crane", "en"), ("Kranich", "e:crane", "de"),
                   ("machine", "e:machine", "en")}
    assert store.aliases_of("n_does_not_exist") == []


def test_neighbours_returns_relations_in_both_directions(store):
    crane_graph(store)
    got = {(r.source, r.target, r.type, r.weight) for r in store.neighbours(["n_bird"])}
    assert got == {("n_crane_bird", "n_bird", "hypernym", 1.0), ("n_crane_machine", "n_bird", "related", 0.2)}
    got = {(r.source, r.target) for r in store.neighbours(["n_crane_bird"])}
    assert got == {("n_crane_bird", "n_bird")}


# -- senses read back ------------------------------------------------------------------------------------
def test_media_count_counts_non_detached_evidence_and_prototype_source_is_own_slot(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, f"m{i}") for i in range(4)])
    bound.upsert_evidence([
        Evidence("m0", "n_crane_bird", 0.9), Evidence("m1", "n_crane_bird", 0.5, "classifier"),
        Evidence("m2", "n_crane_bird", 1.0, "editor"),
        Evidence("m3", "n_crane_bird", 1.0, "editor", detached=True),
    ])
    bound.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), "propagated", confidence=0.3)])
    senses = bound.get_senses(["n_crane_bird", "n_bird", "missing"])
    assert set(senses) == {"n_crane_bird", "n_bird"}
    assert senses["n_crane_bird"].media_count == 3
    assert senses["n_bird"].media_count == 0
    assert senses["n_bird"].prototype_source is None  # a propagated prototype is not the sense's own
    bound.set_prototypes([Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "media", media_count=3)])
    assert bound.get_senses(["n_crane_bird"])["n_crane_bird"].prototype_source == "media"


def test_find_senses_is_case_insensitive_on_id_label_alias_with_exact_id_first(store):
    crane_graph(store)
    store.upsert_senses([Sense("crane", "a sense whose id is the query", "")])
    got = [s.sense_id for s in store.find_senses("CRANE")]
    assert got[0] == "crane"
    assert set(got) == {"crane", "n_crane_bird", "n_crane_machine"}
    assert {s.sense_id for s in store.find_senses("kranich")} == {"n_crane_bird", "n_crane_machine"}
    assert [s.sense_id for s in store.find_senses("egg-LAYING")] == []  # glosses are not searched
    assert {s.sense_id for s in store.find_senses("bird")} == {"n_bird", "n_crane_bird"}
    assert len(store.find_senses("n_", limit=2)) == 2


def test_meta_round_trip(store):
    assert store.get_meta("config") is None
    store.set_meta("config", '{"search": {"alpha": 0.7}}')
    store.set_meta("config", '{"search": {"alpha": 0.8}}')
    assert store.get_meta("config") == '{"search": {"alpha": 0.8}}'


def test_iterators_page_through_everything(bound, rng):
    bound.upsert_senses([Sense(f"s{i:03d}", f"label {i}") for i in range(23)])
    bound.upsert_relations([Relation(f"s{i:03d}", f"s{i + 1:03d}", "next") for i in range(22)])
    bound.upsert_media([media(rng, f"m{i:03d}") for i in range(17)])
    senses = [s.sense_id for b in bound.iter_senses(batch_size=5) for s in b]
    assert sorted(senses) == [f"s{i:03d}" for i in range(23)] and len(set(senses)) == 23
    rels = [(r.source, r.target) for b in bound.iter_relations(batch_size=4) for r in b]
    assert sorted(rels) == [(f"s{i:03d}", f"s{i + 1:03d}") for i in range(22)]
    batches = list(bound.iter_media(batch_size=5, vectors=False))
    assert [len(b) for b in batches][:3] == [5, 5, 5]
    assert sorted(m.media_id for b in batches for m in b) == [f"m{i:03d}" for i in range(17)]
    assert all(m.embedding is None for b in batches for m in b)
    with_vectors = [m for b in bound.iter_media(batch_size=100) for m in b]
    assert all(m.embedding is not None and m.embedding.shape == (JOINT_DIM,) for m in with_vectors)


def test_counts_has_every_key(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0"), media(rng, "m1")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 1.0, "editor", detached=True), Evidence("m1", "n_bird", 0.5),
                           Evidence("m1", "n_crane_bird", 0.2, "gated"),
                           Evidence("m0", "n_crane_bird", 0.2, "gated", detached=True)])
    bound.set_prototypes([
        Prototype("n_bird", unit(rng, NATIVE_DIM), "media"),
        Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "curated"),
        Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "propagated"),
        Prototype("n_crane_machine", unit(rng, NATIVE_DIM), "propagated"),
    ])
    c = bound.counts()
    assert set(c) == COUNT_KEYS
    assert c["entities"] == 3 and c["senses"] == 3 and c["relations"] == 2 and c["media"] == 2
    assert c["evidence"] == 4 and c["evidence_gated"] == 1  # a detached gated link is reviewed, not pending
    assert (c["prototypes_media"], c["prototypes_curated"], c["prototypes_propagated"]) == (1, 1, 2)


# -- media and evidence ------------------------------------------------------------------------------------
def test_media_round_trip_and_lookup_by_sha256(bound, rng):
    m = media(rng, "m0", "video", caption="a crane lifts steel", metadata={"w": 640, "tags": ["x"]})
    bound.upsert_media([m, media(rng, "m1", native=False)])
    got = bound.get_media(["m0", "m1", "nope"])
    assert set(got) == {"m0", "m1"}
    g = got["m0"]
    assert (g.uri, g.modality, g.sha256, g.caption, g.metadata) == (m.uri, "video", m.sha256, m.caption, m.metadata)
    assert g.embedding.dtype == np.float32 and g.features.dtype == np.float32
    np.testing.assert_allclose(g.embedding, m.embedding, atol=1e-6)
    np.testing.assert_allclose(g.features, m.features, atol=1e-6)
    assert got["m1"].features is None
    assert bound.get_media(["m0"], vectors=False)["m0"].embedding is None
    assert bound.media_by_sha256("sha-m0").media_id == "m0"
    assert bound.media_by_sha256("sha-unknown") is None


def test_media_vectors_are_the_stored_unit_vectors_in_the_order_asked(bound, rng):
    ms = [media(rng, "m0"), media(rng, "m1", native=False), media(rng, "m2")]
    bound.upsert_media(ms)
    ids, joint = bound.media_vectors(["m2", "nope", "m0", "m1", "m2"], "joint")
    assert ids == ["m2", "m0", "m1"]
    want = np.stack([ms[2].embedding, ms[0].embedding, ms[1].embedding])
    np.testing.assert_allclose(joint, want / np.linalg.norm(want, axis=1, keepdims=True), atol=1e-6)
    ids, native = bound.media_vectors(["m0", "m1", "m2"], "native")
    assert ids == ["m0", "m2"] and native.shape == (2, NATIVE_DIM)
    np.testing.assert_allclose(native[1], ms[2].features / np.linalg.norm(ms[2].features), atol=1e-6)
    assert bound.media_vectors(["nope"], "joint")[0] == []
    with pytest.raises(ValidationError, match="space"):
        bound.media_vectors(["m0"], "audio")


def test_evidence_is_one_edge_per_media_sense_pair(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.3, mention="bird")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.7, "classifier")])
    edges = bound.evidence(media_id="m0")
    assert len(edges) == 1
    assert (edges[0].sense_id, edges[0].confidence, edges[0].source) == ("n_bird", pytest.approx(0.7), "classifier")


@pytest.mark.parametrize("detached", [False, True])
def test_editor_evidence_is_never_replaced_by_linker_or_classifier(bound, rng, detached):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0")])
    bound.upsert_evidence([Evidence("m0", "n_crane_bird", 1.0, "editor", detached=detached)])
    bound.upsert_evidence([Evidence("m0", "n_crane_bird", 0.2, "linker"), Evidence("m0", "n_crane_bird", 0.1, "classifier")])
    (edge,) = bound.evidence(sense_id="n_crane_bird")
    assert (edge.source, edge.detached, edge.confidence) == ("editor", detached, pytest.approx(1.0))
    assert bound.get_senses(["n_crane_bird"])["n_crane_bird"].media_count == (0 if detached else 1)
    # another editor decision does replace it
    bound.upsert_evidence([Evidence("m0", "n_crane_bird", 1.0, "editor", detached=not detached)])
    (edge,) = bound.evidence(sense_id="n_crane_bird")
    assert edge.detached is (not detached)


def test_gated_evidence_round_trips_and_gives_way_to_a_linker_link_and_the_editor(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0"), media(rng, "m1")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.3, "gated", mention="bird"), Evidence("m1", "n_bird", 0.2, "gated")])
    assert {(e.media_id, e.source, e.mention) for e in bound.evidence(sense_id="n_bird")} == {
        ("m0", "gated", "bird"), ("m1", "gated", None)}
    assert bound.get_senses(["n_bird"])["n_bird"].media_count == 2  # a weak edge is still an edge
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.9, "linker")])  # a re-link that passes the gate
    bound.upsert_evidence([Evidence("m1", "n_bird", 1.0, "editor")])  # a curator pins the other
    bound.upsert_evidence([Evidence("m1", "n_bird", 0.2, "gated")])  # and a re-ingest does not undo that
    assert {(e.media_id, e.source) for e in bound.evidence(sense_id="n_bird")} == {("m0", "linker"), ("m1", "editor")}


def test_evidence_query_returns_detached_edges_flagged(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0"), media(rng, "m1")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.9), Evidence("m1", "n_bird", 1.0, "editor", detached=True),
                           Evidence("m0", "n_crane_bird", 0.4)])
    by_sense = {(e.media_id, e.detached) for e in bound.evidence(sense_id="n_bird")}
    assert by_sense == {("m0", False), ("m1", True)}
    assert {e.sense_id for e in bound.evidence(media_id="m0")} == {"n_bird", "n_crane_bird"}
    assert [(e.media_id, e.sense_id) for e in bound.evidence(sense_id="n_bird", media_id="m1")] == [("m1", "n_bird")]


def test_delete_evidence_removes_the_pair(bound, rng):
    crane_graph(bound)
    bound.upsert_media([media(rng, "m0")])
    bound.upsert_evidence([Evidence("m0", "n_bird", 0.9), Evidence("m0", "n_crane_bird", 0.4)])
    bound.delete_evidence([("m0", "n_bird")])
    assert [e.sense_id for e in bound.evidence(media_id="m0")] == ["n_crane_bird"]


# -- prototypes ----------------------------------------------------------------------------------------------
def test_prototype_provenance_round_trips_in_both_slots(bound, rng):
    crane_graph(bound)
    own = Prototype("n_bird", unit(rng, NATIVE_DIM), "media", media_count=7, strategy="cluster", confidence=0.8,
                    joint=unit(rng, JOINT_DIM), weight=5.5, norm=0.625)
    prop = Prototype("n_bird", unit(rng, NATIVE_DIM), "propagated", media_count=0, strategy="gnn", confidence=0.35)
    bound.set_prototypes([own, prop])
    for got, want in ((bound.get_prototypes(["n_bird"])["n_bird"], own),
                      (bound.get_prototypes(["n_bird"], propagated=True)["n_bird"], prop)):
        assert got.vector.dtype == np.float32
        np.testing.assert_allclose(got.vector, want.vector, atol=1e-6)
        assert (got.source, got.media_count, got.strategy) == (want.source, want.media_count, want.strategy)
        assert got.confidence == pytest.approx(want.confidence, abs=1e-6)
        assert got.weight == pytest.approx(want.weight, abs=1e-6) and got.norm == pytest.approx(want.norm, abs=1e-6)
    np.testing.assert_allclose(bound.get_prototypes(["n_bird"])["n_bird"].joint, own.joint, atol=1e-6)
    assert bound.get_prototypes(["n_bird"], propagated=True)["n_bird"].joint is None
    assert bound.get_prototypes(["n_crane_bird"]) == {}


def test_sense_prototypes_resolves_redirects_and_reads_both_slots_at_once(bound, rng):
    crane_graph(bound)
    own = Prototype("n_bird", unit(rng, NATIVE_DIM), "media", media_count=7, strategy="cluster", confidence=0.8,
                    joint=unit(rng, JOINT_DIM), weight=5.5, norm=0.625)
    prop = Prototype("n_bird", unit(rng, NATIVE_DIM), "propagated", media_count=0, strategy="gnn", confidence=0.35)
    only_prop = Prototype("n_crane_machine", unit(rng, NATIVE_DIM), "propagated", confidence=0.5)
    bound.set_prototypes([own, prop, only_prop])
    bound.set_redirect("n_crane_bird", "n_bird")  # a merged sense reads as the one it was merged into
    got = bound.sense_prototypes(["n_crane_bird", "n_bird", "n_crane_machine", "n_bird"])
    assert set(got) == {"n_crane_bird", "n_bird", "n_crane_machine"}
    assert got["n_crane_bird"].sense_id == got["n_bird"].sense_id == "n_bird"
    for sid in ("n_crane_bird", "n_bird"):  # the same as resolve + get_prototypes in both slots
        for have, want in ((got[sid].own, bound.get_prototypes(["n_bird"])["n_bird"]),
                           (got[sid].propagated, bound.get_prototypes(["n_bird"], propagated=True)["n_bird"])):
            np.testing.assert_allclose(have.vector, want.vector, atol=1e-6)
            assert (have.sense_id, have.source, have.media_count, have.strategy) == (want.sense_id, want.source, want.media_count, want.strategy)
            assert have.confidence == pytest.approx(want.confidence) and have.norm == pytest.approx(want.norm)
    np.testing.assert_allclose(got["n_bird"].own.joint, own.joint, atol=1e-6)
    assert got["n_crane_machine"].own is None and got["n_crane_machine"].propagated.confidence == pytest.approx(0.5)
    bound.set_redirect("n_bird", "n_crane_machine")  # chains are followed
    assert bound.sense_prototypes(["n_crane_bird"])["n_crane_bird"].sense_id == "n_crane_machine"
    assert bound.sense_prototypes([]) == {}
    with pytest.raises(NotFound, match="n_unknown"):
        bound.sense_prototypes(["n_bird", "n_unknown"])


def _context_graph(store, rng) -> None:
    """crane_graph with one more level: n_bird -> n_animal, and a prototype on n_bird only."""
    crane_graph(store)
    store.upsert_senses([Sense("n_animal", "animal", "a living organism")])
    store.upsert_relations([Relation("n_bird", "n_animal", "hypernym", 1.0)])
    store.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), "media", media_count=4)])


def _same_slots(got, want) -> None:
    assert got.sense_id == want.sense_id
    for have, ref in ((got.own, want.own), (got.propagated, want.propagated)):
        assert (have is None) == (ref is None)
        if ref is not None:
            np.testing.assert_allclose(have.vector, ref.vector, atol=1e-6)
            assert (have.sense_id, have.source, have.media_count) == (ref.sense_id, ref.source, ref.media_count)


def test_search_context_reads_the_senses_and_the_neighbourhood_of_those_without_a_prototype(bound, rng):
    from sensegraph.handoff import relatives

    _context_graph(bound, rng)
    ctx = bound.search_context(["n_crane_machine", "n_bird", "n_crane_bird"], expand=["n_crane_bird", "n_bird"])
    # n_bird holds a prototype: not walked; n_crane_bird holds none: its senses within two relations
    assert ctx.relatives == {"n_crane_bird": {"n_bird": 1, "n_crane_machine": 2, "n_animal": 2}}
    assert ctx.relatives["n_crane_bird"] == relatives(bound, "n_crane_bird")  # the engine's own walk
    assert set(ctx.senses) == {"n_crane_machine", "n_bird", "n_crane_bird", "n_animal"}
    want = bound.sense_prototypes(list(ctx.senses))
    for sid, got in ctx.senses.items():
        _same_slots(got, want[sid])
    assert ctx.senses["n_bird"].own.media_count == 4 and ctx.senses["n_animal"].own is None
    one = bound.search_context(["n_crane_bird"], expand=["n_crane_bird"], hops=1)
    assert one.relatives == {"n_crane_bird": {"n_bird": 1}}
    # a hub: the walk stops after the depth at which more than max_visited senses were seen
    assert bound.search_context([], expand=["n_crane_bird"], max_visited=1).relatives == {"n_crane_bird": {"n_bird": 1}}
    assert bound.search_context(["n_animal"], expand=["n_animal"]).relatives == {"n_animal": {"n_bird": 1, "n_crane_bird": 2, "n_crane_machine": 2}}
    assert bound.search_context([]).senses == {} and bound.search_context(["n_bird"]).relatives == {}


def test_search_context_follows_redirects_and_refuses_unknown_ids_and_bad_walks(bound, rng):
    _context_graph(bound, rng)
    bound.set_redirect("n_crane_machine", "n_bird")  # a merged sense reads as the one it was merged into
    ctx = bound.search_context(["n_crane_machine"], expand=["n_crane_machine"])
    assert ctx.senses["n_crane_machine"].sense_id == "n_bird" and ctx.senses["n_crane_machine"].own is not None
    assert ctx.relatives == {"n_crane_machine": {"n_bird": 1, "n_crane_bird": 2, "n_animal": 2}}  # a redirected sense holds none
    bound.set_redirect("n_animal", "n_crane_bird")  # a relative that redirects reads as its live sense
    ctx = bound.search_context(["n_crane_bird"], expand=["n_crane_bird"])
    assert ctx.senses["n_animal"].sense_id == "n_crane_bird"
    with pytest.raises(NotFound, match="n_unknown"):
        bound.search_context(["n_bird"], expand=["n_unknown"])
    for bad in ({"hops": 0}, {"hops": 3}, {"hops": True}, {"max_visited": 0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            bound.search_context(["n_bird"], ["n_bird"], **bad)


def test_search_match_gives_the_same_answer_when_asked_to_read_the_hits_records(bound, rng):
    ms = [media(rng, f"m{i:02d}") for i in range(20)] + [media(rng, "j0", native=False)]
    bound.upsert_media(ms)
    qj, qn = 0.6 * unit(rng, JOINT_DIM), 0.4 * unit(rng, NATIVE_DIM)
    plain = bound.search_match(qj, qn, 12)
    for records in (1, 5, 12, 50):
        got = bound.search_match(qj, qn, 12, records=records)
        assert [m for m, _ in got] == [m for m, _ in plain]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in plain], atol=1e-6)
        ids, joint = bound.media_vectors([m for m, _ in got[:records]], "joint")
        want = {m.media_id: m.embedding for m in ms}
        np.testing.assert_allclose(joint, [want[m] / np.linalg.norm(want[m]) for m in ids], atol=1e-5)
        assert {m: r.uri for m, r in bound.get_media(ids, vectors=False).items()} == {m: f"file:///{m}.jpg" for m in ids}
    with pytest.raises(ValidationError, match="records"):
        bound.search_match(qj, qn, 3, records=-1)


def test_media_prototype_never_overwrites_curated(bound, rng):
    crane_graph(bound)
    curated = unit(rng, NATIVE_DIM)
    bound.set_prototypes([Prototype("n_bird", curated, "curated")])
    bound.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), "media", media_count=3)])
    got = bound.get_prototypes(["n_bird"])["n_bird"]
    assert got.source == "curated"
    np.testing.assert_allclose(got.vector, curated, atol=1e-6)
    # a propagated one lives in its own slot and leaves the curated one alone
    bound.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), "propagated")])
    assert bound.get_prototypes(["n_bird"])["n_bird"].source == "curated"
    # after clearing, media may write; curated then overwrites media
    bound.clear_prototype("n_bird")
    assert bound.get_prototypes(["n_bird"]) == {}
    assert set(bound.get_prototypes(["n_bird"], propagated=True)) == {"n_bird"}
    bound.set_prototypes([Prototype("n_bird", unit(rng, NATIVE_DIM), "media")])
    assert bound.get_prototypes(["n_bird"])["n_bird"].source == "media"
    bound.set_prototypes([Prototype("n_bird", curated, "curated")])
    assert bound.get_prototypes(["n_bird"])["n_bird"].source == "curated"
    bound.clear_prototype("n_bird", propagated=True)
    assert bound.get_prototypes(["n_bird"], propagated=True) == {}
    assert bound.get_prototypes(["n_bird"])["n_bird"].source == "curated"


# -- encoder binding ------------------------------------------------------------------------------------------
def test_bind_encoder_records_once_and_refuses_another(store):
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)  # same again: no-op
    with pytest.raises(EncoderMismatch) as err:
        store.bind_encoder("open_clip:ViT-B-32", 512, 768)
    msg = str(err.value)
    assert ENCODER_ID in msg and "open_clip:ViT-B-32" in msg
    assert "fresh store" in msg and "re-ingest" in msg
    with pytest.raises(EncoderMismatch):
        store.bind_encoder(ENCODER_ID, JOINT_DIM + 1, NATIVE_DIM)


# -- vector search ------------------------------------------------------------------------------------------
def test_search_media_is_cosine_top_k_descending_in_either_space(bound, rng):
    ms = [media(rng, f"m{i:02d}") for i in range(30)]
    bound.upsert_media(ms)
    for space, attr, dim in (("joint", "embedding", JOINT_DIM), ("native", "features", NATIVE_DIM)):
        q = rng.normal(size=dim).astype(np.float32) * 3.0  # not unit: the store normalises
        want = sorted(((m.media_id, cosine(q, getattr(m, attr))) for m in ms), key=lambda t: -t[1])[:7]
        got = bound.search_media(q, 7, space=space)
        assert [g[0] for g in got] == [w[0] for w in want]
        np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)
        assert all(a[1] >= b[1] for a, b in zip(got, got[1:]))


def test_search_media_skips_media_without_a_vector_in_that_space(bound, rng):
    bound.upsert_media([media(rng, "both"), media(rng, "joint_only", native=False), media(rng, "none", joint=False, native=False)])
    assert {m for m, _ in bound.search_media(unit(rng, NATIVE_DIM), 10, space="native")} == {"both"}
    assert {m for m, _ in bound.search_media(unit(rng, JOINT_DIM), 10)} == {"both", "joint_only"}


def formula(m: Media, qj: np.ndarray, qn: np.ndarray) -> float:
    """qj·ê + qn·f̂, a missing vector counting 0: what search_match ranks by."""
    j = 0.0 if m.embedding is None else float(qj @ (m.embedding / np.linalg.norm(m.embedding)))
    n = 0.0 if m.features is None else float(qn @ (m.features / np.linalg.norm(m.features)))
    return j + n


def test_search_match_ranks_by_the_weighted_sum_of_both_cosines(bound, rng):
    ms = ([media(rng, f"m{i:02d}") for i in range(24)] + [media(rng, f"j{i}", native=False) for i in range(3)]
          + [media(rng, f"n{i}", joint=False) for i in range(3)] + [media(rng, "none", joint=False, native=False)])
    bound.upsert_media(ms)
    qj, qn = 0.6 * unit(rng, JOINT_DIM), 0.4 * unit(rng, NATIVE_DIM)  # weighted parts: not unit, not normalised
    want = sorted(((m.media_id, formula(m, qj, qn)) for m in ms if m.media_id != "none"), key=lambda t: -t[1])
    got = bound.search_match(qj, qn, 40)  # k above the count: every medium with a vector, in formula order
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)
    top = bound.search_match(qj, qn, 5)
    assert len(top) == 5 and all(a[1] >= b[1] for a, b in zip(top, top[1:]))
    score = dict(want)
    np.testing.assert_allclose([s for _, s in top], [score[m] for m, _ in top], atol=1e-4)
    # one part alone is that space's cosine ranking scaled by its weight
    only = bound.search_match(qj, None, 4)
    assert [m for m, _ in only] == [m for m, _ in bound.search_media(qj, 4)]
    np.testing.assert_allclose([s for _, s in only], [0.6 * s for _, s in bound.search_media(qj, 4)], atol=1e-4)


def test_search_match_follows_one_part_written_apart_from_the_other(bound, rng):
    """A medium with one part, then the other added by a record carrying only it, then the first
    replaced, a zero vector among them: each time ranked and scored by the formula over what is stored."""
    qj, qn = 0.7 * unit(rng, JOINT_DIM), 0.3 * unit(rng, NATIVE_DIM)
    stored = {f"m{i}": media(rng, f"m{i}", native=False) for i in range(6)}
    stored["f"] = media(rng, "f", joint=False)
    stored["zero"] = Media("zero", "file:///zero.jpg", "image", sha256="sha-zero",
                           embedding=np.zeros(JOINT_DIM, dtype=np.float32))  # present, but counts 0
    bound.upsert_media(list(stored.values()))

    def check() -> None:
        def score(m: Media) -> float:
            j = 0.0 if m.embedding is None or not np.any(m.embedding) else float(qj @ (m.embedding / np.linalg.norm(m.embedding)))
            n = 0.0 if m.features is None or not np.any(m.features) else float(qn @ (m.features / np.linalg.norm(m.features)))
            return j + n
        want = sorted(((m, score(v)) for m, v in stored.items()), key=lambda t: (-t[1], t[0]))
        got = bound.search_match(qj, qn, 20)
        assert [g[0] for g in got] == [w[0] for w in want]
        np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)

    check()
    for mid in ("m0", "m1", "f"):  # the other part alone: the stored one is kept
        other = media(rng, mid, joint=mid == "f", native=mid != "f")
        bound.upsert_media([other])
        stored[mid] = Media(mid, other.uri, "image", sha256=other.sha256,
                            embedding=stored[mid].embedding if mid != "f" else other.embedding,
                            features=other.features if mid != "f" else stored[mid].features)
    check()
    replaced = media(rng, "m0", native=False)  # a new embedding, features kept
    bound.upsert_media([replaced])
    stored["m0"] = Media("m0", replaced.uri, "image", sha256=replaced.sha256, embedding=replaced.embedding,
                         features=stored["m0"].features)
    check()
    bound.upsert_media([stored["m0"], stored["m1"]])  # the same again: nothing changes
    check()


def test_media_written_before_the_encoder_is_bound_are_searched_after(store, rng):
    ms = [media(rng, f"m{i}") for i in range(5)] + [media(rng, "j", native=False), media(rng, "n", joint=False)]
    store.upsert_media(ms)
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    qj, qn = 0.5 * unit(rng, JOINT_DIM), 0.5 * unit(rng, NATIVE_DIM)
    want = sorted(((m.media_id, formula(m, qj, qn)) for m in ms), key=lambda t: -t[1])
    got = store.search_match(qj, qn, 10)
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)


def test_search_match_refuses_bad_queries(bound, rng):
    bound.upsert_media([media(rng, "m0")])
    with pytest.raises(ValidationError, match="joint"):
        bound.search_match(np.ones(JOINT_DIM + 1), None, 3)
    with pytest.raises(ValidationError, match="native"):
        bound.search_match(None, np.full(NATIVE_DIM, np.nan), 3)
    with pytest.raises(ValidationError, match="k must"):
        bound.search_match(unit(rng, JOINT_DIM), None, 0)


def _filter_world(store, rng):
    """60 media: 48 images near the query, 12 videos far from it; evidence on a few."""
    q = unit(rng, JOINT_DIM)
    ms = []
    for i in range(60):
        v = q + 0.3 * unit(rng, JOINT_DIM) if i < 48 else -q + 0.3 * unit(rng, JOINT_DIM)
        ms.append(Media(f"m{i:02d}", f"file:///{i}", "image" if i < 48 else "video",
                        embedding=(v / np.linalg.norm(v)).astype(np.float32), features=unit(rng, NATIVE_DIM)))
    store.upsert_media(ms)
    crane_graph(store)
    # far-away media carry the evidence, so an unfiltered top-k would never reach them
    store.upsert_evidence(
        [Evidence(f"m{i:02d}", "n_crane_bird", 0.8) for i in range(50, 58)]
        + [Evidence("m58", "n_crane_bird", 1.0, "editor", detached=True)]
        + [Evidence(f"m{i:02d}", "n_bird", 0.4, "classifier") for i in (10, 48, 49)]
    )
    return q


def test_filtered_search_returns_k_when_k_match(bound, rng):
    q = _filter_world(bound, rng)
    got = bound.search_media(q, 5, filters=MediaFilter(modality="video"))
    assert len(got) == 5 and all(int(m[1:]) >= 48 for m, _ in got)
    got = bound.search_media(q, 5, filters=MediaFilter(sense_id="n_crane_bird"))
    assert len(got) == 5 and {m for m, _ in got} <= {f"m{i:02d}" for i in range(50, 58)}
    got = bound.search_media(q, 20, filters=MediaFilter(sense_id="n_crane_bird"))
    assert {m for m, _ in got} == {f"m{i:02d}" for i in range(50, 58)}  # the detached m58 is not in
    got = bound.search_media(q, 3, filters=MediaFilter(evidence_source="classifier", modality="video"))
    assert {m for m, _ in got} == {"m48", "m49"}
    ranked = [m for m, _ in bound.search_media(q, 60)]
    got = bound.search_media(q, 4, filters=MediaFilter(exclude_ids=tuple(ranked[:45])))
    assert [m for m, _ in got] == ranked[45:49]
    assert all(a[1] >= b[1] for a, b in zip(got, got[1:]))
    # the formula query applies the same filters inside its search
    got = bound.search_match(q, unit(rng, NATIVE_DIM), 5, filters=MediaFilter(modality="video"))
    assert len(got) == 5 and all(int(m[1:]) >= 48 for m, _ in got)
    got = bound.search_match(q, None, 20, filters=MediaFilter(sense_id="n_crane_bird"))
    assert {m for m, _ in got} == {f"m{i:02d}" for i in range(50, 58)}


def test_search_prototypes_searches_own_or_propagated_slot(bound, rng):
    crane_graph(bound)
    a, b, c = (unit(rng, NATIVE_DIM) for _ in range(3))
    bound.set_prototypes([Prototype("n_bird", a, "media"), Prototype("n_crane_bird", b, "curated"),
                          Prototype("n_crane_machine", c, "propagated")])
    got = bound.search_prototypes(a, 5)
    assert [s for s, _ in got][0] == "n_bird" and {s for s, _ in got} == {"n_bird", "n_crane_bird"}
    assert got[0][1] == pytest.approx(1.0, abs=1e-4)
    assert got[1][1] == pytest.approx(cosine(a, b), abs=1e-4)
    assert [s for s, _ in bound.search_prototypes(a, 5, propagated=True)] == ["n_crane_machine"]


# -- curator edits -----------------------------------------------------------------------------------------
def _edit_world(store, rng):
    crane_graph(store)
    store.upsert_media([media(rng, f"m{i}") for i in range(5)])
    store.upsert_evidence([Evidence(f"m{i}", "n_crane_bird", 0.6, mention="crane") for i in range(4)]
                          + [Evidence("m4", "n_crane_machine", 0.9)])


def test_move_evidence_detaches_old_edges_and_pins_new_ones(bound, rng):
    _edit_world(bound, rng)
    assert bound.move_evidence(["m0", "m1"], "n_crane_bird", "n_crane_machine") == 2
    old = {e.media_id: e for e in bound.evidence(sense_id="n_crane_bird")}
    assert (old["m0"].source, old["m0"].detached) == ("editor", True)
    assert (old["m1"].source, old["m1"].detached) == ("editor", True)
    assert old["m2"].detached is False
    new = {e.media_id: e for e in bound.evidence(sense_id="n_crane_machine")}
    assert (new["m0"].source, new["m0"].detached, new["m0"].confidence) == ("editor", False, pytest.approx(1.0))
    senses = bound.get_senses(["n_crane_bird", "n_crane_machine"])
    assert senses["n_crane_bird"].media_count == 2 and senses["n_crane_machine"].media_count == 3
    # a re-ingest by the linker does not undo the curator
    bound.upsert_evidence([Evidence("m0", "n_crane_bird", 0.9)])
    assert bound.get_senses(["n_crane_bird"])["n_crane_bird"].media_count == 2


def test_split_sense_creates_the_new_sense_under_the_same_entities(bound, rng):
    _edit_world(bound, rng)
    new = bound.split_sense("n_crane_bird", ["m2", "m3"], Sense("n_crane_bird_origami", "crane (origami)", "paper"))
    assert new.sense_id == "n_crane_bird_origami" and new.media_count == 2
    assert bound.get_senses(["n_crane_bird"])["n_crane_bird"].media_count == 2
    ranks = {(a.entity_id, a.sense_id): a.rank for a in bound.alias_table() if a.alias == "crane"}
    assert ranks[("e:crane", "n_crane_bird_origami")] == 3  # after the entity's existing senses (1, 2)
    rels = {(r.source, r.target, r.type) for r in bound.neighbours(["n_crane_bird_origami"])}
    assert ("n_crane_bird_origami", "n_crane_bird", "split_from") in rels
    moved = {e.media_id: e for e in bound.evidence(sense_id="n_crane_bird_origami")}
    assert set(moved) == {"m2", "m3"} and all(e.source == "editor" and not e.detached for e in moved.values())


def test_split_sense_again_is_a_no_op_and_a_clash_is_refused(bound, rng):
    """The same split twice (a double submit, or a retry whose first commit's acknowledgement was
    lost) changes nothing and succeeds; splitting into a sense that exists otherwise is refused."""
    _edit_world(bound, rng)
    origami = Sense("n_crane_bird_origami", "crane (origami)", "paper")
    first = bound.split_sense("n_crane_bird", ["m2", "m3"], origami)
    before = (bound.counts(), sorted((e.media_id, e.sense_id, e.detached) for e in bound.evidence(sense_id="n_crane_bird")),
              [a for a in bound.alias_table() if a.alias == "crane"])
    again = bound.split_sense("n_crane_bird", ["m3", "m2"], origami)
    assert again == first
    assert (bound.counts(), sorted((e.media_id, e.sense_id, e.detached) for e in bound.evidence(sense_id="n_crane_bird")),
            [a for a in bound.alias_table() if a.alias == "crane"]) == before
    with pytest.raises(ValidationError, match="already exists"):  # other media: not the same split
        bound.split_sense("n_crane_bird", ["m0"], origami)
    with pytest.raises(ValidationError, match="already exists"):  # an existing sense, never split off
        bound.split_sense("n_crane_bird", ["m0"], Sense("n_crane_machine", "crane", ""))


def test_merge_senses_folds_drop_into_keep_and_redirects(bound, rng):
    _edit_world(bound, rng)
    bound.upsert_senses([Sense("n_hoist", "hoist", "")])
    bound.upsert_relations([Relation("n_crane_bird", "n_crane_machine", "confused_with"),
                            Relation("n_hoist", "n_crane_bird", "related", 0.5),
                            Relation("n_hoist", "n_crane_machine", "related", 0.7)])
    # overlapping evidence: an editor edge on drop beats a linker edge on keep; max confidence otherwise
    bound.upsert_evidence([Evidence("m4", "n_crane_bird", 1.0, "editor"), Evidence("m0", "n_crane_machine", 0.95)])
    bound.set_prototypes([Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "media"),
                          Prototype("n_crane_bird", unit(rng, NATIVE_DIM), "propagated")])
    kept = bound.merge_senses("n_crane_machine", "n_crane_bird")
    assert kept.sense_id == "n_crane_machine"
    edges = {e.media_id: e for e in bound.evidence(sense_id="n_crane_machine")}
    assert set(edges) == {"m0", "m1", "m2", "m3", "m4"}
    assert edges["m4"].source == "editor" and edges["m0"].confidence == pytest.approx(0.95)
    assert bound.evidence(sense_id="n_crane_bird") == []
    assert bound.get_senses(["n_crane_machine"])["n_crane_machine"].media_count == 5
    rels = {(r.source, r.target, r.type) for b in bound.iter_relations() for r in b}
    assert not any("n_crane_bird" in (s, t) for s, t, _ in rels)
    assert ("n_crane_machine", "n_crane_machine", "confused_with") not in rels  # no self-loop
    assert ("n_crane_machine", "n_bird", "hypernym") in rels and ("n_crane_machine", "n_bird", "related") in rels
    assert sum(1 for s, t, ty in rels if (s, t, ty) == ("n_hoist", "n_crane_machine", "related")) == 1
    assert bound.get_prototypes(["n_crane_bird"]) == {} and bound.get_prototypes(["n_crane_bird"], propagated=True) == {}
    assert bound.get_senses(["n_crane_bird"])["n_crane_bird"].redirect_to == "n_crane_machine"
    assert ("e:crane", "n_crane_machine") in {(a.entity_id, a.sense_id) for a in bound.alias_table()}
    assert bound.resolve("n_crane_bird") == "n_crane_machine"
    assert bound.resolve("n_crane_machine") == "n_crane_machine"
    bound.merge_senses("n_hoist", "n_crane_machine")  # chains are followed
    assert bound.resolve("n_crane_bird") == "n_hoist"


@pytest.mark.parametrize("edit", [
    lambda s: s.move_evidence(["m0", "m_unknown"], "n_crane_bird", "n_crane_machine"),
    lambda s: s.move_evidence(["m0"], "n_crane_bird", "n_unknown"),
    lambda s: s.move_evidence(["m0"], "n_unknown", "n_crane_machine"),
    lambda s: s.split_sense("n_crane_bird", ["m0", "m_unknown"], Sense("n_new", "new")),
    lambda s: s.split_sense("n_unknown", ["m0"], Sense("n_new", "new")),
    lambda s: s.merge_senses("n_crane_machine", "n_unknown"),
    lambda s: s.merge_senses("n_unknown", "n_crane_bird"),
], ids=["move-media", "move-to", "move-from", "split-media", "split-sense", "merge-drop", "merge-keep"])
def test_edit_with_unknown_id_raises_not_found_and_writes_nothing(bound, rng, edit):
    _edit_world(bound, rng)
    before = snapshot(bound)
    with pytest.raises(NotFound) as err:
        edit(bound)
    assert "unknown" in str(err.value)
    assert snapshot(bound) == before
    assert bound.get_senses(["n_new"]) == {}


# -- inverse edits (the curator's undo) ---------------------------------------------------------------------
def test_get_entities_and_has_sense_of_read_what_exists(store):
    crane_graph(store)
    assert store.get_entities(["e:crane", "e:nope", "e:bird"]) == {
        "e:crane": Entity("e:crane", "crane"), "e:bird": Entity("e:bird", "bird")}
    assert store.get_entities([]) == {}
    links = store.has_sense_of(["n_crane_machine", "n_nope"])
    assert sorted(links, key=lambda h: h.entity_id) == [
        HasSense("e:crane", "n_crane_machine", 2), HasSense("e:machine", "n_crane_machine", 1)]


def test_set_redirect_sets_and_clears_idempotently(store):
    crane_graph(store)
    for _ in range(2):
        store.set_redirect("n_crane_bird", "n_bird")
        assert store.resolve("n_crane_bird") == "n_bird"
    store.set_redirect("n_crane_bird", None)
    store.set_redirect("n_crane_bird", None)
    assert store.resolve("n_crane_bird") == "n_crane_bird"
    assert store.get_senses(["n_crane_bird"])["n_crane_bird"].redirect_to is None
    before = snapshot(store)
    for sid, target in (("n_unknown", "n_bird"), ("n_crane_bird", "n_unknown")):
        with pytest.raises(NotFound, match="n_unknown"):
            store.set_redirect(sid, target)
    with pytest.raises(ValidationError, match="itself"):
        store.set_redirect("n_bird", "n_bird")
    assert snapshot(store) == before


def test_delete_has_sense_removes_links_idempotently(store):
    crane_graph(store)
    assert store.delete_has_sense([("e:crane", "n_crane_machine")]) == 1
    assert store.delete_has_sense([("e:crane", "n_crane_machine")]) == 0
    rows = {(a.alias, a.sense_id) for a in store.alias_table()}
    assert ("crane", "n_crane_machine") not in rows and ("machine", "n_crane_machine") in rows
    assert ("crane", "n_crane_bird") in rows
    before = snapshot(store)
    for pairs in ([("e:crane", "n_crane_bird"), ("e:unknown", "n_bird")],
                  [("e:bird", "n_bird"), ("e:crane", "n_unknown")]):
        with pytest.raises(NotFound, match="unknown"):
            store.delete_has_sense(pairs)
    assert snapshot(store) == before


def test_delete_relations_by_key_ignoring_weight(store):
    crane_graph(store)
    assert store.delete_relations([Relation("n_crane_bird", "n_bird", "hypernym", 0.123)]) == 1
    assert store.delete_relations([Relation("n_crane_bird", "n_bird", "hypernym")]) == 0
    assert store.delete_relations([Relation("n_crane_machine", "n_bird", "hypernym")]) == 0  # other type
    assert [(r.source, r.type) for r in store.neighbours(["n_bird"])] == [("n_crane_machine", "related")]
    before = snapshot(store)
    with pytest.raises(NotFound, match="n_unknown"):
        store.delete_relations([Relation("n_crane_machine", "n_bird", "related"), Relation("n_unknown", "n_bird", "x")])
    assert snapshot(store) == before


def test_delete_aliases_unnames_one_entity_and_keeps_shared_text(store):
    crane_graph(store)
    store.upsert_aliases([Alias("crane", "e:machine")])  # the same text names two entities
    aliases = store.counts()["aliases"]
    assert store.delete_aliases([Alias("crane", "e:crane")]) == 1
    assert store.delete_aliases([Alias("crane", "e:crane")]) == 0
    rows = {(a.alias, a.entity_id) for a in store.alias_table()}
    assert ("crane", "e:crane") not in rows and ("crane", "e:machine") in rows
    assert store.counts()["aliases"] == aliases  # "crane" still names e:machine
    assert store.delete_aliases([Alias("Kranich", "e:crane", "de")]) == 1
    assert store.counts()["aliases"] == aliases - 1
    assert "Kranich" not in {a.text for a in store.aliases_of("n_crane_bird")}
    before = snapshot(store)
    with pytest.raises(NotFound, match="e:unknown"):
        store.delete_aliases([Alias("bird", "e:bird"), Alias("x", "e:unknown")])
    assert snapshot(store) == before


def test_apply_patch_puts_keys_exactly_in_one_transaction(bound, rng):
    _edit_world(bound, rng)
    bound.upsert_evidence([Evidence("m0", "n_crane_machine", 1.0, "editor", detached=True)])
    patch = GraphPatch(
        delete_entities=("e:bird", "e:gone-already"),
        delete_evidence=(("m1", "n_crane_bird"),),
        has_sense=(HasSense("e:machine", "n_bird", 4),),
        relations=(Relation("n_bird", "n_crane_bird", "hyponym", 0.5),),
        evidence=(Evidence("m0", "n_crane_machine", 0.4, "linker", mention="crane"),),  # over an editor edge
        senses=(Sense("n_bird", "Bird", "a new gloss"),),
        redirects=(("n_crane_machine", "n_crane_bird"),),
    )
    before = snapshot(bound)
    bad = GraphPatch(**{**patch.__dict__, "evidence": patch.evidence + (Evidence("m_unknown", "n_bird", 0.5),)})
    with pytest.raises(NotFound, match="m_unknown"):
        bound.apply_patch(bad)
    assert snapshot(bound) == before  # nothing of the patch was written
    bound.apply_patch(patch)
    after = snapshot(bound)
    bound.apply_patch(patch)
    assert snapshot(bound) == after  # idempotent
    assert bound.get_entities(["e:bird"]) == {} and "bird" not in {a.alias for a in bound.alias_table()}
    assert after["counts"]["entities"] == 2 and after["counts"]["aliases"] == before["counts"]["aliases"] - 1
    assert [e.media_id for e in bound.evidence(sense_id="n_crane_bird") if e.media_id == "m1"] == []
    assert bound.evidence(media_id="m0", sense_id="n_crane_machine") == [
        Evidence("m0", "n_crane_machine", 0.4, "linker", False, "crane")]
    assert HasSense("e:machine", "n_bird", 4) in bound.has_sense_of(["n_bird"])
    assert Relation("n_bird", "n_crane_bird", "hyponym", 0.5) in bound.neighbours(["n_bird"])
    s = bound.get_senses(["n_bird", "n_crane_machine"])
    assert (s["n_bird"].label, s["n_bird"].gloss) == ("Bird", "a new gloss")
    assert s["n_crane_machine"].redirect_to == "n_crane_bird"


def test_merge_is_undone_by_one_patch_from_its_snapshot(bound, rng):
    _edit_world(bound, rng)
    bound.upsert_senses([Sense("n_hoist", "hoist", "")])
    bound.upsert_entities([Entity("e:hoist", "hoist")])
    bound.upsert_aliases([Alias("hoist", "e:hoist")])
    bound.upsert_has_sense([HasSense("e:hoist", "n_hoist", 1), HasSense("e:machine", "n_hoist", 2)])
    bound.upsert_relations([Relation("n_crane_bird", "n_crane_machine", "confused_with"),
                            Relation("n_hoist", "n_crane_bird", "related", 0.5),
                            Relation("n_hoist", "n_crane_machine", "related", 0.7),
                            Relation("n_crane_machine", "n_bird", "hypernym", 0.3)])
    bound.upsert_evidence([Evidence("m4", "n_crane_bird", 1.0, "editor"), Evidence("m0", "n_crane_machine", 0.95),
                           Evidence("m1", "n_crane_machine", 0.1)])
    before = snapshot(bound)
    snap = capture_merge(bound, "n_crane_machine", "n_crane_bird")
    bound.merge_senses("n_crane_machine", "n_crane_bird")
    assert snapshot(bound) != before
    bound.apply_patch(unmerge_patch(snap))
    assert snapshot(bound) == before
    assert bound.resolve("n_crane_bird") == "n_crane_bird"
    # the snapshot survives a JSON round trip (the audit trail keeps it as JSON)
    again = type(snap).from_json(json.loads(json.dumps(snap.to_json())))
    assert unmerge_patch(again) == unmerge_patch(snap)


# -- audit ---------------------------------------------------------------------------------------------------
def test_audit_log_newest_first_filtered_and_undoable(store):
    entries = [
        AuditEntry("a1", "ann", "2026-01-01T10:00:00Z", "move", ("n_a", "n_b"), "{}", "{}"),
        AuditEntry("a2", "bob", "2026-01-01T11:00:00Z", "merge", ("n_b",), "{}", "{}"),
        AuditEntry("a3", "ann", "2026-01-01T12:00:00Z", "split", ("n_c",), "{}", "{}"),
    ]
    for e in entries:
        store.add_audit(e)
    assert [e.audit_id for e in store.audit_log()] == ["a3", "a2", "a1"]
    assert [e.audit_id for e in store.audit_log(limit=2)] == ["a3", "a2"]
    assert [e.audit_id for e in store.audit_log(sense_id="n_b")] == ["a2", "a1"]
    got = store.audit_log(sense_id="n_a")[0]
    assert (got.user, got.action, set(got.sense_ids), got.undone) == ("ann", "move", {"n_a", "n_b"}, False)
    store.mark_undone("a2")
    assert [e.undone for e in store.audit_log()] == [False, True, False]


# -- injection ------------------------------------------------------------------------------------------------
INJECTIONS = [
    "'}) DETACH DELETE n //",
    '"; DROP TABLE senses; --',
    "x' OR '1'='1",
    "`backtick` $param {curly} \\ %_",
]


def test_user_strings_are_stored_verbatim_and_execute_nothing(bound, rng):
    crane_graph(bound)
    for i, bad in enumerate(INJECTIONS):
        sid = f"n_bad{i}"
        bound.upsert_entities([Entity(f"e:{bad}", bad)])
        bound.upsert_senses([Sense(sid, bad, bad)])
        bound.upsert_aliases([Alias(bad, f"e:{bad}")])
        bound.upsert_has_sense([HasSense(f"e:{bad}", sid)])
        bound.upsert_media([Media(bad, bad, caption=bad, embedding=unit(rng, JOINT_DIM))])
        bound.upsert_evidence([Evidence(bad, sid, 0.5, mention=bad)])
        bound.set_meta(bad, bad)
        s = bound.get_senses([sid])[sid]
        assert (s.label, s.gloss, s.media_count) == (bad, bad, 1)
        assert bound.get_media([bad])[bad].caption == bad
        assert bound.get_meta(bad) == bad
        assert {a.text for a in bound.aliases_of(sid)} == {bad}
        assert sid in [x.sense_id for x in bound.find_senses(bad)]
    c = bound.counts()
    assert c["senses"] == 3 + len(INJECTIONS) and c["media"] == len(INJECTIONS)
    assert c["entities"] == 3 + len(INJECTIONS) and c["relations"] == 2
    # LIKE wildcards and its escape character are literal: only the sense named with them is found
    assert [x.sense_id for x in bound.find_senses("\\ %_")] == [f"n_bad{len(INJECTIONS) - 1}"]
    assert bound.find_senses("%") == [] and bound.find_senses("_") == []  # name starts only, and none starts so
