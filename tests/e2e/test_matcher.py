"""The learned match head and threshold="auto" on a real store (both kinds), the real encoder and linker.

Half of four ambiguous words' drawings are captioned (the evidence the head trains on), the rest form
an uncaptioned gallery, as in test_search.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sensegraph.errors import EncoderMismatch, ValidationError
from sensegraph.evaluation.dataset import load_evalset, resolve_media
from sensegraph.matcher import HEAD_META_KEY, HeadConfig, load_head, train_matcher
from sensegraph.matcher.no_match import NO_MATCH_META_KEY, calibrate_no_match, load_threshold

# mouse-animal-1 is captioned so the store holds two senses of one word ("mouse": the animal and the
# device) that the linker tells apart: the media of one are hard negatives of the other's captions
CAPTIONED = ["key-lock-1", "key-lock-3", "turkey-meat-1", "turkey-meat-3", "bat-club-1", "bat-animal-1",
             "heart-card-1", "heart-shape-1", "mouse-device-1", "mouse-device-2", "mouse-animal-1"]
LATER = ["bat-club-3", "heart-card-3"]  # captioned media ingested after the first training round
GALLERY = ["key-lock-2", "key-lever-1", "key-lever-2", "turkey-meat-2", "turkey-bird-1", "turkey-flag-1",
           "bat-club-2", "bat-animal-2", "heart-card-2", "heart-shape-2", "mouse-device-3"]
EVALSET = Path(__file__).parents[2] / "evalsets" / "core"
FAST = HeadConfig(epochs=15)


def _records(ids, *, captioned: bool):
    media = {m.id: m for m in load_evalset(EVALSET).media}
    return [{"id": i, "media": str(resolve_media(media[i].media)), "text": media[i].caption if captioned else None} for i in ids]


@pytest.fixture
def cold(sg):
    report = sg.ingest(_records(CAPTIONED, captioned=True) + _records(GALLERY, captioned=False))
    assert report.ingested == len(CAPTIONED) + len(GALLERY) and not report.skipped
    return sg


def _rerank(sg, on: bool = True):
    sg.config.search.rerank = on
    sg.reset_part("engine")


def test_the_head_trains_on_the_stores_evidence_and_reranks_the_formulas_candidates(cold):
    sg = cold
    formula = sg.search_result("a baseball bat", k=50)
    assert all(h.head is None for h in formula.hits) and formula.metadata["ranked_by"] == "formula"
    report = train_matcher(sg, FAST)
    assert report.queries >= len(CAPTIONED) and report.positives >= report.queries and report.hard_negatives > 0
    assert report.loss_last < report.loss_first
    _rerank(sg)
    res = sg.search_result("a baseball bat", k=50)
    assert res.metadata["ranked_by"] == "head"
    heads = [h.head for h in res.hits]
    assert all(0.0 <= s <= 1.0 for s in heads) and heads == sorted(heads, reverse=True)
    assert {h.media_id for h in res.hits} == {h.media_id for h in formula.hits}  # the same K' candidates, re-ranked
    by_id = {h.media_id: h for h in formula.hits}
    for h in res.hits:  # the explanation keeps the formula's parts beside the head's score
        assert h.match == pytest.approx(by_id[h.media_id].match, abs=1e-6) and h.sim1 == pytest.approx(by_id[h.media_id].sim1, abs=1e-6)
        assert h.to_dict()["head"] == pytest.approx(h.head, abs=1e-6)
    # the head learnt something: captions find their own medium first among every captioned one
    own = sg.search_result("wooden baseball bat with a black taped grip", k=50)
    assert own.hits[0].media_id == "bat-club-1"
    # recommendations compare media, which the text-trained head does not score
    assert all(h.head is None for h in sg.engine.recommend("bat-club-1", 3).hits)


def test_training_is_deterministic_and_the_head_is_kept_with_its_encoder(cold):
    sg = cold
    train_matcher(sg, FAST)
    first = json.loads(sg.store.get_meta(HEAD_META_KEY))
    train_matcher(sg, FAST)
    second = json.loads(sg.store.get_meta(HEAD_META_KEY))
    assert first["head"]["arrays"] == second["head"]["arrays"]
    assert first["encoder_id"] == sg.encoder.encoder_id
    assert load_head(sg.store, sg.encoder.encoder_id) is not None
    with pytest.raises(EncoderMismatch, match="trained for encoder"):
        load_head(sg.store, "open_clip:ViT-B-32")
    sg.store.set_meta(HEAD_META_KEY, json.dumps({**second, "encoder_id": "some-other-encoder"}))
    _rerank(sg)
    with pytest.raises(EncoderMismatch, match="retrain it with sensegraph train-matcher"):
        sg.search("a baseball bat")


def test_incremental_training_continues_on_new_captions(cold):
    sg = cold
    train_matcher(sg, FAST)
    with pytest.raises(ValidationError, match="nothing to learn"):
        train_matcher(sg, FAST, incremental=True)
    before = load_head(sg.store, None)
    sg.ingest(_records(LATER, captioned=True))
    report = train_matcher(sg, FAST, incremental=True)
    after = load_head(sg.store, None)
    assert report.incremental and after.info["rounds"] == 2
    assert set(LATER) <= set(after.info["media"]) and set(CAPTIONED) <= set(after.info["media"])
    assert np.array_equal(after.mean, before.mean) and not np.array_equal(after.w1, before.w1)


def test_auto_threshold_needs_a_calibration_that_fits_the_search(cold):
    sg = cold
    with pytest.raises(ValidationError, match="calibrate-no-match"):
        sg.search("a baseball bat", threshold="auto")
    with pytest.raises(ValidationError, match="a number or 'auto'"):
        sg.search("a baseball bat", threshold="sometimes")
    answerable = ["a baseball bat", "a key for the front door lock", "a computer mouse", "roast turkey for dinner"]
    nomatch = ["a giraffe eating leaves from a tall tree", "a snowman with a carrot nose", "a sailing boat on a calm sea"]
    t = calibrate_no_match(sg, answerable, nomatch, target=0.9)
    assert t.score == "formula" and (t.answerable, t.nomatch) == (4, 3) and load_threshold(sg.store) == t
    tops_a = [sg.search(q, k=1)[0].match for q in answerable]
    tops_n = [sg.search(q, k=1)[0].match for q in nomatch]
    flagged = [s < t.threshold for s in tops_a + tops_n]
    tp = sum(flagged[len(tops_a):])
    assert t.recall == pytest.approx(tp / len(nomatch)) and (not any(flagged) or t.precision == pytest.approx(tp / sum(flagged)))
    for q in answerable + nomatch:  # "auto" keeps exactly the hits at or above the calibrated threshold
        res = sg.search_result(q, k=5, threshold="auto")
        assert all(h.match >= t.threshold for h in res.hits)
        assert (not res.hits) == ("no_match" in res.metadata)
    # the search must rank the way it was calibrated
    with pytest.raises(ValidationError, match=f"alpha={sg.config.search.alpha:g}, beta={sg.config.search.beta:g}"):
        sg.search("a baseball bat", threshold="auto", beta=0.2)
    train_matcher(sg, FAST)
    _rerank(sg)
    with pytest.raises(ValidationError, match="calibrated on the formula score"):
        sg.search("a baseball bat", threshold="auto")


def test_nothing_above_the_threshold_returns_nothing_with_the_reason(cold):
    sg = cold
    t = calibrate_no_match(sg, ["a baseball bat"], ["a giraffe eating leaves from a tall tree"], target=0.5)
    raw = json.loads(sg.store.get_meta(NO_MATCH_META_KEY))
    sg.store.set_meta(NO_MATCH_META_KEY, json.dumps({**raw, "threshold": 1.5}))  # above any match
    res = sg.search_result("a giraffe eating leaves from a tall tree", k=5, threshold="auto")
    assert res.hits == []
    reason = res.metadata["no_match"]["reason"]
    assert "below the calibrated threshold 1.500" in reason and res.metadata["no_match"]["best"] < 1.5
    sg.store.set_meta(NO_MATCH_META_KEY, json.dumps({**raw, "threshold": -1.0}))
    assert len(sg.search("a giraffe eating leaves from a tall tree", k=5, threshold="auto")) == 5
    assert t.score == "formula"


def test_cli_trains_switches_reranking_on_and_shows_the_head_score(cold, store_kind):
    if store_kind != "embedded":
        pytest.skip("the CLI is exercised on the embedded store; the engine is the same on Neo4j")
    from typer.testing import CliRunner

    from sensegraph.cli import app

    runner, store = CliRunner(), cold.store.describe()
    r = runner.invoke(app, ["train-matcher", "--store", store, "--epochs", "5", "--rerank", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout.strip().splitlines()[-1])
    assert body["rerank_on"] is True and body["queries"] >= len(CAPTIONED) and body["encoder_id"] == cold.encoder.encoder_id
    r = runner.invoke(app, ["search", "a baseball bat", "-k", "3", "--store", store])
    assert r.exit_code == 0, r.output
    header = next(line for line in r.stdout.splitlines() if "sim1" in line)
    assert header.index("match") < header.index("head") < header.index("sim1") < header.index("sim2")
    r = runner.invoke(app, ["search", "a baseball bat", "--threshold", "auto", "--store", store])
    assert r.exit_code == 2 and "calibrate-no-match" in r.output
    r = runner.invoke(app, ["search", "a baseball bat", "--threshold", "often", "--store", store])
    assert r.exit_code != 0 and "a number or 'auto'" in r.output


def test_rest_and_the_editor_show_the_head_score(cold):
    from fastapi.testclient import TestClient

    from sensegraph.service import create_app

    train_matcher(cold, FAST)
    _rerank(cold)
    client = TestClient(create_app(cold))
    r = client.get("/search", params={"q": "a baseball bat", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["ranked_by"] == "head" and all(0 <= h["head"] <= 1 for h in body["results"])
    assert len(client.get("/search", params={"q": "a baseball bat", "k": 3, "threshold": "0"}).json()["results"]) == 3
    r = client.get("/search", params={"q": "a baseball bat", "threshold": "auto"})
    assert r.status_code == 422 and "calibrate-no-match" in r.json()["detail"]
    assert client.post("/search", json={"q": "a baseball bat", "threshold": "sometimes"}).status_code == 422
    html = client.get("/editor/search", params={"q": "a baseball bat"}).text
    assert 'data-testid="head"' in html and "head <b>" in html


def test_cli_calibrates_no_match_on_an_eval_sets_dev_split_and_search_auto_uses_it(cold, store_kind):
    if store_kind != "embedded":
        pytest.skip("the CLI is exercised on the embedded store; the engine is the same on Neo4j")
    from typer.testing import CliRunner

    from sensegraph.cli import app

    runner, store = CliRunner(), cold.store.describe()
    r = runner.invoke(app, ["calibrate-no-match", str(EVALSET), "--store", store, "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    dry = json.loads(r.stdout.strip().splitlines()[-1])
    assert dry["score"] == "formula" and dry["nomatch"] == 20 and dry["answerable"] > 0  # dev queries with gold in this store
    assert cold.store.get_meta(NO_MATCH_META_KEY) is None  # a dry run writes nothing
    r = runner.invoke(app, ["calibrate-no-match", str(EVALSET), "--store", store, "--json"])
    assert r.exit_code == 0, r.output
    saved = json.loads(r.stdout.strip().splitlines()[-1])
    assert saved["threshold"] == dry["threshold"]
    r = runner.invoke(app, ["search", "a snowman with a carrot nose and a scarf", "--threshold", "auto", "--store", store, "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout.strip().splitlines()[-1])
    assert body["metadata"]["threshold"]["value"] == saved["threshold"]
    assert all(h["match"] >= saved["threshold"] for h in body["results"])
    assert (not body["results"]) == ("no_match" in body["metadata"])


def test_training_pairs_see_the_formula_parts_search_computes(cold):
    """The head learns from the parts the engine scores with (centring, candidate shares, hand-on), so a
    change to the formula that training does not follow fails here."""
    from sensegraph.matcher.pairs import formula_parts, query_senses

    sg = cold
    text = "a bat flying at night"
    res = sg.search_result(text, k=50)
    ids = [h.media_id for h in res.hits]
    linked, unrep = query_senses(sg.engine, sg.link(text))
    joint = np.stack([sg.store.get_media([i])[i].embedding for i in ids])
    native = np.stack([sg.store.get_media([i])[i].features for i in ids])
    parts = formula_parts(sg.engine.embed_texts([text])[0], joint, native, linked, unrep, sg.config.search.beta, sg.engine)
    np.testing.assert_allclose(parts.sim1, [h.sim1 for h in res.hits], atol=1e-5)
    np.testing.assert_allclose(parts.sim2, [h.sim2 for h in res.hits], atol=1e-5)
