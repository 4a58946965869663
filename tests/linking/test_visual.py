"""The visual prior: captions and queries name things people photograph (linking/visual.py)."""
from __future__ import annotations

from sensegraph.config import LinkerConfig
from sensegraph.linking.linker import EntityLinker
from sensegraph.linking.visual import picturable_senses

FELINE, CATERPILLAR = "n02121620", "n02983507"
CARROT_ROOT_VEGETABLE, CARROT_PLANT_ROOT = "n07730207", "n12937678"


def test_picturable_senses_are_the_imagenet_12k_classes():
    senses = picturable_senses()
    assert len(senses) > 10_000
    assert {FELINE, CARROT_ROOT_VEGETABLE} <= senses
    assert not {CATERPILLAR, CARROT_PLANT_ROOT} & senses


def test_captions_link_to_the_sense_one_can_see(wordnet_store, minilm):
    def link(cfg: dict, text: str, word: str) -> str | None:
        linker = EntityLinker(wordnet_store, minilm.embed_texts, cfg)
        [m] = [m for m in linker.link(text) if m.text == word]
        return m.sense_id

    shipped = LinkerConfig().w_visual
    assert shipped > 0
    assert link({}, "a grey cartoon cat walking", "cat") == FELINE
    assert link({}, "A carrot.", "carrot") == CARROT_ROOT_VEGETABLE
    # without the part both went wrong (docs/linking.md)
    assert link({"w_visual": 0.0}, "a grey cartoon cat walking", "cat") == CATERPILLAR
    assert link({"w_visual": 0.0}, "A carrot.", "carrot") == CARROT_PLANT_ROOT


def test_visual_part_is_on_every_candidate(wordnet_store):
    linker = EntityLinker(wordnet_store, None, {"w_visual": 0.05})
    [cat] = linker.link("a cat")
    parts = {c.sense_id: c.parts["visual"] for c in cat.candidates}
    assert parts[FELINE] == 1.0 and parts[CATERPILLAR] == 0.0
