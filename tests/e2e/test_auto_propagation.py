"""Propagation runs by itself: after an ingest or an edit, a sense next to new evidence gets a prototype.

"acoustic guitar" (n02676566) gets images; its hypernym "guitar" (n03467517) has none of its own, so
without propagation the query "a guitar" has no prototype of its own sense to score images by.
"""
from __future__ import annotations

import pytest

from sensegraph.evaluation.dataset import resolve_media

ACOUSTIC, GUITAR = "n02676566", "n03467517"
IMAGE = "pkg:skimage:coffee.png"  # any packaged image: the caption decides the evidence


@pytest.fixture
def make_sg(store_kind, tmp_path, encoder, open_test_store):
    """A SenseGraph over a fresh store of each kind holding acoustic guitar and its hypernyms."""
    from sensegraph import SenseGraph

    made = []

    def make(**propagation):
        store = open_test_store(store_kind, tmp_path / f"store{len(made)}")
        sg = SenseGraph(store, encoder=encoder, config={"propagation": propagation} if propagation else None)
        sg.import_kg("wordnet", synsets=[ACOUSTIC])
        store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
        made.append(store)
        return sg

    yield make
    for store in made:
        store.close()


def propagated(sg, sense_id):
    return sg.store.get_prototypes([sense_id], propagated=True).get(sense_id)


def test_ingest_gives_the_hypernym_a_prototype_by_default(make_sg):
    sg = make_sg()
    report = sg.ingest([{"id": "g1", "media": str(resolve_media(IMAGE)), "text": "an acoustic guitar"}])
    assert report.ingested == 1 and report.prototypes_created >= 1
    assert sg.store.get_prototypes([ACOUSTIC]).get(ACOUSTIC) is not None
    proto = propagated(sg, GUITAR)
    assert proto is not None and proto.strategy == "neighbour-mean" and 0 < proto.confidence <= 1
    assert report.propagated >= 1
    hit = sg.search("a guitar", k=1)[0]
    used = {s.sense_id: s for s in hit.senses}
    assert hit.media_id == "g1" and hit.sim2 > 0
    assert used[GUITAR].prototype == "propagated" and used[GUITAR].sim > 0
    # a guessed prototype keeps only its confidence of the weight: the rest is left to the text
    assert used[GUITAR].weight <= proto.confidence * sg.config.search.propagated_weight + 1e-6
    again = sg.ingest([{"id": "g1", "media": str(resolve_media(IMAGE)), "text": "an acoustic guitar"}])
    assert again.propagated == 0  # nothing changed: nothing re-propagated


def test_turned_off_nothing_is_propagated(make_sg):
    sg = make_sg(auto=False)
    report = sg.ingest([{"id": "g1", "media": str(resolve_media(IMAGE)), "text": "an acoustic guitar"}])
    assert report.prototypes_created >= 1 and report.propagated == 0
    assert propagated(sg, GUITAR) is None
    used = {s.sense_id: s for s in sg.search("a guitar", k=1)[0].senses}
    assert GUITAR not in used or used[GUITAR].prototype != "propagated"


def test_a_curator_edit_propagates_too(make_sg):
    sg = make_sg(auto=False)
    sg.ingest([{"id": "g1", "media": str(resolve_media(IMAGE)), "text": "a cup of coffee"}])  # no guitar evidence
    assert propagated(sg, GUITAR) is None
    sg.config.propagation.auto = True
    sg.attach("g1", ACOUSTIC)
    assert propagated(sg, GUITAR) is not None
    sg.detach("g1", ACOUSTIC)  # the only evidence goes: the propagated prototype it supported goes too
    assert sg.store.get_prototypes([ACOUSTIC]).get(ACOUSTIC) is None
    assert propagated(sg, GUITAR) is None
