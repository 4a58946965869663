"""Configuration keys that had no test of their effect (issue 19: every key works or is removed):
changing each changes what SenseGraph does."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sensegraph import SenseGraph
from sensegraph.encoders.base import MediaEmbedding
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.importers.report import write_batches
from sensegraph.graph.model import Alias, Entity, HasSense, Sense


class LabellingEncoder:
    """Every medium gets the same vectors and two classifier labels (s:a 0.8, s:b 0.5)."""

    encoder_id, joint_dim, native_dim = "fake/labels", 4, 4

    def embed_texts(self, texts):
        return np.tile(np.float32([1, 0, 0, 0]), (len(texts), 1))

    def embed_media(self, media):
        v = np.tile(np.float32([0, 1, 0, 0]), (len(media), 1))
        return MediaEmbedding(v, v, [[("s:a", 0.8), ("s:b", 0.5)] for _ in media])


@pytest.fixture
def sharks(tmp_path):
    """'Sharks' with two senses, the animal first (prior 2:1)."""
    s = EmbeddedStore(tmp_path / "store")
    write_batches(s, entities=[Entity("sharks", "Sharks")], aliases=[Alias("Sharks", "sharks")],
                  senses=[Sense("animal:shark", "shark"), Sense("team:sharks", "Shanghai Sharks")],
                  has_sense=[HasSense("sharks", "animal:shark", 1), HasSense("sharks", "team:sharks", 2)], relations=[])
    yield s
    s.close()


def _confidence(store, **linker) -> float:
    sg = SenseGraph(store, config={"linker": {"pos_model": None, **linker}})
    sg.replace_part("text_memo", None)  # no text model: prior and alias decide
    [m] = sg.link("Sharks won")
    assert m.sense_id == "animal:shark"
    return m.confidence


def test_linker_temperature_sharpens_confidence(sharks):
    assert _confidence(sharks, temperature=0.1) > _confidence(sharks, temperature=1.0) + 0.03


def test_linker_w_prior_weighs_the_prior(sharks):
    assert _confidence(sharks, w_prior=2.0) > _confidence(sharks, w_prior=0.15) + 0.03


def test_linker_lang_tags_the_aliases_a_curator_adds(sharks):
    sg = SenseGraph(sharks, config={"linker": {"pos_model": None, "lang": "zh"}})
    sg.edit_sense("team:sharks", add_aliases=["鲨鱼队"])
    assert ("鲨鱼队", "zh") in {(a.text, a.lang) for a in sharks.aliases_of("team:sharks")}


@pytest.mark.parametrize(("prototypes", "expected"), [
    ({}, []),
    ({"classifier_evidence": True}, [("s:a", "classifier"), ("s:b", "classifier")]),
    ({"classifier_evidence": True, "classifier_top": 1}, [("s:a", "classifier")]),
])
def test_classifier_evidence_and_top_decide_the_classifier_edges(tmp_path, prototypes, expected):
    Image.new("RGB", (8, 8), (90, 20, 30)).save(tmp_path / "p.png")
    store = EmbeddedStore(tmp_path / "store")
    store.upsert_senses([Sense("s:a", "a"), Sense("s:b", "b")])
    cfg = {"prototypes": prototypes, "propagation": {"auto": False}}
    with SenseGraph(store, encoder=LabellingEncoder(), config=cfg) as sg:
        assert sg.ingest([{"media": str(tmp_path / "p.png"), "id": "p"}]).ingested == 1
    got = sorted((e.sense_id, e.source) for e in store.evidence(media_id="p"))
    store.close()
    assert got == expected


def test_min_own_media_decides_between_an_own_and_a_propagated_prototype(tmp_path):
    from sensegraph.graph.model import Media, Prototype

    store = EmbeddedStore(tmp_path / "store")
    store.bind_encoder("fake/labels", 4, 4)
    write_batches(store, entities=[Entity("thing", "thing")], aliases=[Alias("thing", "thing")],
                  senses=[Sense("s:thing", "thing")], has_sense=[HasSense("thing", "s:thing", 1)], relations=[])
    v = np.float32([0, 1, 0, 0])
    store.upsert_media([Media("m", "file:///m", "image", embedding=v, features=v)])
    store.set_prototypes([Prototype("s:thing", v, "media", media_count=1),
                          Prototype("s:thing", np.float32([0, 0, 1, 0]), "propagated", strategy="neighbour-mean", confidence=0.5)])
    used = {}
    for n in (1, 2):
        sg = SenseGraph(store, encoder=LabellingEncoder(), config={"search": {"min_own_media": n, "centre": 0.0},
                                                                    "linker": {"pos_model": None}})
        sg.replace_part("text_memo", None)
        [hit] = sg.search("thing", k=1)
        used[n] = [(s.sense_id, s.prototype) for s in hit.senses]
    store.close()
    assert used == {1: [("s:thing", "media")], 2: [("s:thing", "propagated")]}
