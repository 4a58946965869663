"""Case agreement: a lower-case mention is not a name WordNet only writes capitalised (linking/casing.py)."""
from __future__ import annotations

from sensegraph.linking.candidates import CASE_FOLDED
from sensegraph.linking.casing import capitalised_keys, capitalised_senses, case_mismatch
from sensegraph.linking.linker import EntityLinker

SHEEP, RAM_MEMORY, ARIES_SIGN = "n02412080", "n04052757", "n08686129"


def test_capitalised_keys_are_spellings_never_written_in_lower_case():
    assert capitalised_keys(["random-access_memory", "RAM", "read/write_memory"]) == {"ram"}
    assert capitalised_keys(["Aries", "Aries_the_Ram", "Ram"]) == {"aries", "aries the ram", "ram"}
    assert capitalised_keys(["ram", "tup"]) == frozenset()
    assert capitalised_keys(["Ram", "ram"]) == frozenset()  # one lower-case form is enough


def test_only_an_all_lower_case_mention_mismatches():
    keys = frozenset({"ram"})
    assert case_mismatch("ram", "RAM", keys)
    assert case_mismatch("rams", "ram", keys)  # the matched alias decides, not the inflected text
    assert not case_mismatch("RAM", "RAM", keys)
    assert not case_mismatch("Ram", "Ram", keys)  # title case may start a sentence
    assert not case_mismatch("ram", "ram", frozenset())
    assert not case_mismatch("42", "42", frozenset({"42"}))  # no letters: nothing to agree on


def test_wordnet_casing_is_read_from_data_noun():
    cased = capitalised_senses()
    assert "ram" in cased[RAM_MEMORY] and "ram" in cased[ARIES_SIGN]
    assert SHEEP not in cased


def test_a_ram_is_the_sheep_and_RAM_the_memory(wordnet_store):
    linker = EntityLinker(wordnet_store, None)
    [ram] = linker.link("A ram.")
    assert ram.sense_id == SHEEP  # random-access memory before: WordNet's first sense, one SemCor tag
    alias = {c.sense_id: c.parts["alias"] for c in ram.candidates}
    assert alias[SHEEP] == 1.0 and alias[RAM_MEMORY] == CASE_FOLDED == alias[ARIES_SIGN]
    [upper] = linker.link("RAM is cheap.")
    assert {c.sense_id: c.parts["alias"] for c in upper.candidates}[RAM_MEMORY] == 1.0
    assert upper.sense_id == RAM_MEMORY
