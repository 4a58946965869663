"""The linker on all of WordNet 3.0: word senses in context, and the held-out accuracy vs MFS."""
from __future__ import annotations

from sensegraph.linking.evaluation import evaluate, load_split

RIVER_BANK = "n09213565"  # sloping land (especially the slope beside a body of water)
CRANE_BIRD = "n02012849"  # large long-necked wading bird
CRANE_MACHINE = "n03126707"  # lifts and moves heavy objects
TEST_ITEMS = 300


def test_word_senses_follow_the_context(wordnet_linker):
    def sense_of(text: str, word: str):
        [m] = [m for m in wordnet_linker.link(text) if m.text == word]
        return m

    assert sense_of("We had a picnic on the grassy bank of the river.", "bank").sense_id == RIVER_BANK
    bird = sense_of("The crane waded through the marsh looking for fish.", "crane")
    machine = sense_of("The crane lifted steel beams onto the construction site.", "crane")
    assert (bird.sense_id, machine.sense_id) == (CRANE_BIRD, CRANE_MACHINE)
    assert len(machine.candidates) > 2 and machine.confidence > 0.25


def test_splits_are_disjoint_and_sense_texts_hold_no_examples(wordnet_linker):
    dev, test = load_split("dev"), load_split("test")
    assert len(dev) == len(test) == 1500
    assert not {(i.gold, i.text) for i in dev} & {(i.gold, i.text) for i in test}
    sample = test[:50]
    texts = wordnet_linker.disambiguator.knowledge.texts([i.gold for i in sample])
    for item in sample:
        assert item.text not in texts[item.gold]


def test_linker_beats_most_frequent_sense_on_held_out_examples(wordnet_linker):
    report = evaluate(wordnet_linker, load_split("test", TEST_ITEMS))
    print("WSD test split:", report.summary())
    assert report.n == TEST_ITEMS
    assert report.accuracy > report.mfs_accuracy + 0.10, report.summary()
