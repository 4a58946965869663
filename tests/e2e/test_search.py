"""The central claim on real drawings: linking + prototypes fix rankings that plain similarity gets wrong.

Half of each sense's drawings are ingested with captions (evidence, prototypes); the others are
ingested without text and form the gallery. For these queries the text-only top-1 is a drawing of
the wrong sense, and the sense-aware top-1 is right.
"""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.evaluation.dataset import load_evalset, resolve_media

CAPTIONED = {"key-lock-1", "key-lock-3", "turkey-meat-1", "turkey-meat-3", "bat-club-1", "bat-animal-1",
             "heart-card-1", "heart-shape-1", "mouse-device-1", "mouse-device-2"}
GALLERY = {"key-lock-2", "key-lever-1", "key-lever-2", "turkey-meat-2", "turkey-bird-1", "turkey-flag-1",
           "bat-club-2", "bat-animal-2", "heart-card-2", "heart-shape-2", "mouse-device-3", "mouse-animal-1"}
FLIPS = [
    ("a key for the front door lock", {"key-lock-2"}),
    ("a baseball bat", {"bat-club-2"}),
    ("a bat flying at night", {"bat-animal-2"}),
]


@pytest.fixture
def cold_gallery(sg):
    evalset = load_evalset(__import__("pathlib").Path(__file__).parents[2] / "evalsets" / "core")
    records = [
        {"id": m.id, "media": str(resolve_media(m.media)), "text": m.caption if m.id in CAPTIONED else None}
        for m in evalset.media if m.id in CAPTIONED | GALLERY
    ]
    report = sg.ingest(records)
    assert report.ingested == len(records) and not report.skipped
    return sg


def _top_in_gallery(sg, text, **opts):
    hits = sg.search(text, k=50, **opts)
    return [h for h in hits if h.media_id in GALLERY]


@pytest.mark.parametrize("query,gold", FLIPS)
def test_sense_aware_fixes_what_text_only_gets_wrong(cold_gallery, query, gold):
    text_only = _top_in_gallery(cold_gallery, query, beta=0.0)
    sense_aware = _top_in_gallery(cold_gallery, query)
    assert text_only[0].media_id not in gold, "text-only already right: the test would prove nothing"
    assert sense_aware[0].media_id in gold
    top = sense_aware[0]
    a, b = cold_gallery.config.search.alpha, cold_gallery.config.search.beta  # the shipped defaults
    assert top.sim2 > 0 and top.senses and top.match == pytest.approx(a * top.sim1 + b * top.sim2, abs=1e-5)


def test_rank_and_threshold_modes_and_pins(cold_gallery):
    sg = cold_gallery
    ranked = sg.search("a baseball bat", k=5)
    assert [h.rank for h in ranked] == [1, 2, 3, 4, 5]
    assert all(a.match >= b.match for a, b in zip(ranked, ranked[1:]))
    cut = ranked[2].match
    kept = sg.search("a baseball bat", k=50, threshold=cut)
    assert [h.media_id for h in kept] == [h.media_id for h in ranked[:3]]
    # pinning the animal sense of "bat" overrides the linker for that mention
    pinned = sg.search_result("a baseball bat", k=3, senses={"baseball bat": "n02139199"})
    assert {s.sense_id for s in pinned.hits[0].senses} == {"n02139199"}


def test_a_medium_reachable_only_through_its_sense_is_found(cold_gallery):
    """K' = 1: the candidates are the formula's own top list, so the drawing its sense ranks first
    is found even with no room for a text-similarity list."""
    sg = cold_gallery
    sg.config.search.candidates = 1
    sg.reset_part("engine")
    hits = sg.search("a bat flying at night", k=3)
    assert "bat-animal-2" in {h.media_id for h in hits}


def test_a_medium_with_only_native_features_is_ranked_by_its_sense(cold_gallery):
    """No joint embedding (say, features from a classifier pipeline only): the formula gives it
    sim1 = 0, and its similarity to the linked sense's prototype can still rank it."""
    from sensegraph.graph.model import Media

    sg = cold_gallery
    twin = sg.store.get_media(["bat-animal-2"])["bat-animal-2"]
    sg.store.upsert_media([Media("bat-features-only", "file:///features-only", "image", features=twin.features)])
    hits = {h.media_id: h for h in sg.search("a bat flying at night", k=12)}
    assert "bat-features-only" in hits
    hit = hits["bat-features-only"]
    assert hit.sim1 == 0.0 and hit.sim2 == pytest.approx(hits["bat-animal-2"].sim2, abs=1e-5) and hit.sim2 > 0


def test_recommend_and_similar(cold_gallery):
    sg = cold_gallery
    recs = sg.recommend("bat-club-1", k=3)
    assert recs and all(h.media_id != "bat-club-1" for h in recs)
    assert recs[0].media_id in {"bat-club-2", "bat-animal-1", "bat-animal-2"}
    sim = sg.similar(media_id="key-lock-1", k=3)
    assert sim and sim[0].sim2 > 0 and "key-lock-1" not in {h.media_id for h in sim}
    assert sg.similar("a turkey", k=1)[0].sim1 > 0


def test_a_short_query_is_embedded_once_for_linking_and_search(cold_gallery):
    """The linker's context window of a short query is the query; the engine reuses that vector."""
    from sensegraph import SenseGraph

    inner, seen = cold_gallery.encoder, []

    class Counting:
        encoder_id, joint_dim, native_dim = inner.encoder_id, inner.joint_dim, inner.native_dim

        def embed_texts(self, texts):
            seen.extend(texts)
            return inner.embed_texts(texts)

        def embed_media(self, media):
            return inner.embed_media(media)

    query = "a bat flying at night"
    plain = cold_gallery.search(query, k=5)
    counted = SenseGraph(cold_gallery.store, encoder=Counting()).search(query, k=5)
    assert seen.count(query) == 1
    assert [(h.media_id, round(h.match, 6)) for h in counted] == [(h.media_id, round(h.match, 6)) for h in plain]


@pytest.mark.parametrize("query", ["a bat flying at night", "a baseball bat", "a key for the front door lock", "a turkey"])  # the last links nothing
def test_search_is_the_formula_over_every_medium(cold_gallery, query):
    """With K' = k (no slack) the hits are the formula's exact top-k over the whole store, scored
    here from every medium's vectors with the engine's pure scoring functions."""
    from sensegraph.scoring import cosine_rows, match_scores, normalise_weights
    from sensegraph.search import apply_pins

    sg = cold_gallery
    sg.config.search.candidates = 4
    sg.reset_part("engine")
    got = sg.search_result(query, k=4)
    linked = sg.engine.linked_senses(apply_pins(sg.linker.link(query), None))
    # the engine's weights w_k (confidence × salience, handed on from senses without media: api/handoff.py)
    senses = got.hits[0].senses if got.hits else []
    protos = {ls.sense_id: ls.prototype.vector for ls in sg.engine.linked_senses([(s.sense_id, 1.0) for s in senses])}
    assert {ls.sense_id for ls in linked} <= set(protos) or not linked
    ids = [m.media_id for batch in sg.store.iter_media() for m in batch]
    ids, joint = sg.store.media_vectors(ids, "joint")
    found, native = sg.store.media_vectors(ids, "native")
    assert found == ids
    q = sg.encoder.embed_texts([query])[0]
    per_sense = np.stack([cosine_rows(native, protos[s.sense_id]) for s in senses], axis=1) if senses else np.zeros((len(ids), 0))
    weights = np.array([s.weight for s in senses]) if senses else normalise_weights([])
    assert weights.sum() <= 1.0 + 1e-6
    match, _ = match_scores(cosine_rows(joint, q), per_sense, weights, sg.config.search.alpha, sg.config.search.beta)
    order = np.argsort(-match)
    assert [h.media_id for h in got.hits] == [ids[i] for i in order[:4]]
    np.testing.assert_allclose([h.match for h in got.hits], match[order[:4]], atol=1e-5)
