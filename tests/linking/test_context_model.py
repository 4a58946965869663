"""``linker.context_model``: the linker's context part through all-mpnet-base-v2, the joint space still MiniLM."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from sensegraph import SenseGraph
from sensegraph.config import build_config
from sensegraph.encoders import mpnet
from sensegraph.encoders.text_cache import DB_NAME, text_cache_dir
from sensegraph.errors import ConfigError
from sensegraph.linking.chinese import translating
from sensegraph.linking.disambiguate import context_window, context_words, prior_strength


LAUNCH = "The rocket lifted off from the launch pad in a cloud of burning fuel."


def _context_parts(sg: SenseGraph, text: str, word: str) -> dict[str, float]:
    [m] = [m for m in sg.link(text) if m.text.lower() == word]
    return {c.sense_id: c.parts["context"] for c in m.candidates} | {"chosen": m.sense_id}  # type: ignore[dict-item]


def test_the_key_defaults_to_minilm_and_refuses_other_names():
    assert build_config({}).linker.context_model == "minilm"
    with pytest.raises(ConfigError, match="context_model"):
        build_config({"linker": {"context_model": "bert-large"}})


@pytest.mark.usefixtures("mpnet_pieces")
@pytest.mark.slow
def test_mpnet_scores_the_context_and_the_search_space_stays_minilm(toy_store):
    sg = SenseGraph(toy_store, config={"linker": {"context_model": "mpnet", "pos_model": None}})
    assert sg.linker.embed_texts(["a rocket"]).shape == (1, 768)
    assert sg.text_memo(["a rocket"]).shape == (1, 384)  # search and prototypes: the joint MiniLM space
    big = _context_parts(sg, LAUNCH, "rocket")
    assert big["chosen"] == "obj:rocket"
    start = LAUNCH.index("rocket")  # the context part is cos(window, sense text) · (1 − prior strength), in mpnet
    window = context_window(LAUNCH, start, start + 6, sg.config.linker.context_window)
    strength = prior_strength(context_words(LAUNCH, start, start + 6, sg.config.linker.context_window))
    sense_text = sg.linker.disambiguator.knowledge.texts(["obj:rocket"])["obj:rocket"]
    w, s = translating(mpnet.MPNetTextEncoder().embed_texts)([window, sense_text])  # its alias 火箭 read as English
    assert big["obj:rocket"] == pytest.approx(float(w @ s) * (1 - strength), abs=1e-5) and big["obj:rocket"] > 0.2
    with sqlite3.connect(text_cache_dir() / DB_NAME) as db:  # the linker's vectors, kept under mpnet's own id
        models = dict(db.execute("SELECT model_id, count(*) FROM texts GROUP BY model_id").fetchall())
    assert models.get("all-mpnet-base-v2@1", 0) >= 2
    embedder = sg.linker.embed_texts
    sg.refresh_linker()  # a rebuilt linker keeps the loaded model
    assert sg.linker.embed_texts is embedder

    sg.config = sg.config.merged({"linker": {"context_model": "minilm"}})
    small = _context_parts(sg, LAUNCH, "rocket")
    assert sg.linker.embed_texts is sg.text_memo
    assert not np.isclose(small["obj:rocket"], big["obj:rocket"], atol=1e-3)  # another model scored it
