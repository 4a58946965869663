"""An image with its caption text as a second modality (issue 21): the gate, the stored blocks, search,
explanations, and the switch (encoder ``captioned`` vs ``default``), on both stores."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sensegraph import fusion
from sensegraph.config import SenseGraphConfig
from sensegraph.errors import ConfigError

WORDS = {"cat", "tabby", "cup", "coffee", "rocket", "astronaut"}
BLOCKS = (("visual", 1280), ("caption", 384))
NO_AUTO = {"propagation": {"auto": False}} if "propagation" in SenseGraphConfig.model_fields else {}


# -- the pure parts --------------------------------------------------------------------------------------
def test_top_labels_confidence_reads_how_peaked_the_picture_is():
    sure = fusion.top_labels_confidence([("a", 0.95), ("b", 0.02)], 1000)
    unsure = fusion.top_labels_confidence([("a", 0.05), ("b", 0.04), ("c", 0.03)], 1000)
    assert 0 <= unsure < sure <= 1
    assert fusion.top_labels_confidence([("a", 1.0)], 1000) == pytest.approx(1.0)
    assert fusion.top_labels_confidence([], 1000) == 0.0
    # the rest spread evenly over the other classes: all 1000 classes at 0.001 is uniform, confidence 0
    assert fusion.top_labels_confidence([("a", 0.001)], 1000) == pytest.approx(0.0, abs=1e-9)


def test_caption_confidence_is_the_surest_link():
    assert fusion.caption_confidence([0.3, 0.9, 0.5]) == pytest.approx(0.9)
    assert fusion.caption_confidence([]) == 0.0
    assert fusion.caption_confidence([1.7]) == 1.0


def test_fuse_caption_blocks_follow_the_gate(rng):
    visual = np.concatenate([rng.normal(size=1280), np.zeros(384)]).astype(np.float32)
    visual /= np.linalg.norm(visual)
    joint, caption = rng.normal(size=384), rng.normal(size=384)
    j, native, g = fusion.fuse_caption(joint, visual, caption, 0.25, 0.75, BLOCKS)
    np.testing.assert_allclose(g, [0.25, 0.75])
    assert np.linalg.norm(native) == pytest.approx(1, abs=1e-5) and np.linalg.norm(j) == pytest.approx(1, abs=1e-5)
    gh = fusion.block_weights(native, BLOCKS)
    np.testing.assert_allclose(gh, g / np.linalg.norm(g), atol=1e-5)
    cap = native[1280:] / gh[1]
    assert float(cap @ (caption / np.linalg.norm(caption))) == pytest.approx(1, abs=1e-5)
    # the joint vector leans to the surer modality
    jn, cn = joint / np.linalg.norm(joint), caption / np.linalg.norm(caption)
    assert float(j @ cn) > float(j @ jn)
    # both gates zero: equal weights, never a zero vector
    _, native0, g0 = fusion.fuse_caption(joint, visual, caption, 0.0, 0.0, BLOCKS)
    np.testing.assert_allclose(g0, [0.5, 0.5]) and np.linalg.norm(native0) == pytest.approx(1, abs=1e-5)
    # a caption block already there (a re-fuse) is replaced, not added to
    _, again, _ = fusion.fuse_caption(joint, native, caption, 0.25, 0.75, BLOCKS)
    np.testing.assert_allclose(again, native, atol=1e-6)


def test_captioned_encoder_declares_the_block_and_refuses_unknown_options():
    from sensegraph.encoders import create_encoder

    enc = create_encoder("captioned")
    assert enc.native_blocks == BLOCKS and enc.native_dim == 1664 and enc.joint_dim == 384
    assert enc.encoder_id.endswith("+caption-block")
    with pytest.raises(ConfigError, match="captioned"):
        create_encoder("captioned", colour=True)


# -- through SenseGraph, both stores ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def kg():
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(select=lambda s: any(l.lower() in WORDS for l in s.lemmas))


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory):
    import skimage.data as sd
    from PIL import Image

    d = tmp_path_factory.mktemp("caption-media")
    for name, fn in (("coffee", sd.coffee), ("cat", sd.chelsea), ("rocket", sd.rocket), ("astro", sd.astronaut)):
        Image.fromarray(fn()).save(d / f"{name}.png")
    return d


def records(d):
    # the rocket picture carries a caption about a cat: only its caption can make it a cat
    return [
        {"id": "coffee", "media": str(d / "coffee.png"), "text": "a cup of coffee"},
        {"id": "cat", "media": str(d / "cat.png"), "text": "a tabby cat"},
        {"id": "rocket", "media": str(d / "rocket.png"), "text": "a tabby cat asleep on a sofa"},
        {"id": "astro", "media": str(d / "astro.png")},
    ]


def open_graph(kind, where, kg, open_test_store, encoder):
    from sensegraph import SenseGraph
    from sensegraph.graph.importers.report import write_batches

    store = open_test_store(kind, where)
    write_batches(store, entities=kg.entities, aliases=kg.aliases, senses=kg.senses, has_sense=kg.has_sense, relations=kg.relations)
    return SenseGraph(store, config={"encoder": {"name": encoder}, **NO_AUTO})


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def kind(request):
    return request.param


@pytest.fixture
def captioned(kind, tmp_path, kg, open_test_store, media_dir):
    sg = open_graph(kind, tmp_path / "store", kg, open_test_store, "captioned")
    sg.report = sg.ingest(records(media_dir))
    try:
        yield sg
    finally:
        sg.store.close()


def test_stored_vectors_carry_the_caption_block_by_the_gate(captioned):
    assert captioned.report.ingested == 4, captioned.report.skipped
    media = captioned.store.get_media(["cat", "astro", "rocket"], vectors=True)
    assert media["astro"].features.shape == (1664,)
    np.testing.assert_allclose(fusion.block_weights(media["astro"].features, BLOCKS), [1, 0], atol=1e-5)  # no caption: the picture alone
    g = fusion.block_weights(media["cat"].features, BLOCKS)
    assert g[0] > 0 and g[1] > 0 and g @ g == pytest.approx(1, abs=1e-4)
    # the caption block is the caption's own text vector
    text = captioned.encoder.embed_texts(["a tabby cat"])[0]
    assert float(media["cat"].features[1280:] @ text) / g[1] == pytest.approx(1, abs=1e-4)
    # a sense's prototype has a caption block: the mean text of its evidence captions
    cat_senses = {e.sense_id for e in captioned.store.evidence(media_id="cat") if e.source == "linker"}
    protos = captioned.store.sense_prototypes(sorted(cat_senses))
    own = [r.own for r in protos.values() if r.own is not None]
    assert own and all(np.linalg.norm(p.vector[1280:]) > 0.1 for p in own)


def test_reingest_writes_the_same_vectors(captioned, media_dir):
    before = captioned.store.get_media(["cat", "rocket"], vectors=True)
    again = captioned.ingest(records(media_dir))
    assert again.ingested == 0 and again.already_present == 4
    after = captioned.store.get_media(["cat", "rocket"], vectors=True)
    for m in ("cat", "rocket"):
        np.testing.assert_allclose(after[m].features, before[m].features, atol=1e-6)
        np.testing.assert_allclose(after[m].embedding, before[m].embedding, atol=1e-6)


def test_explanation_shows_each_modality(captioned):
    res = captioned.search_result("a tabby cat", k=4)
    top = {h.media_id: h for h in res.hits}
    parts = {p.modality: p for p in top["cat"].modalities}
    assert set(parts) == {"visual", "caption"}
    assert parts["visual"].weight ** 2 + parts["caption"].weight ** 2 == pytest.approx(1, abs=1e-4)
    for h in res.hits:
        assert sum(p.weight * p.score for p in h.modalities) == pytest.approx(h.sim2, abs=1e-4)
    assert [p.modality for p in top["astro"].modalities] == ["visual"]
    d = res.hits[0].to_dict()
    assert {p["modality"] for p in d["modalities"]} <= {"visual", "caption"} and "score" in d["modalities"][0]


def test_rest_and_cli_show_modality_weights(captioned, kind):
    from fastapi.testclient import TestClient

    from sensegraph.service import create_app

    body = TestClient(create_app(captioned)).get("/search", params={"q": "a tabby cat", "k": 4}).json()
    cat = next(r for r in body["results"] if r["media_id"] == "cat")
    assert {m["modality"] for m in cat["modalities"]} == {"visual", "caption"}
    if kind != "embedded":
        return  # the CLI opens the embedded store by its path
    from typer.testing import CliRunner

    from sensegraph.cli import app

    captioned.save_config()  # the CLI opens the store with its saved configuration: the captioned encoder
    where = str(captioned.store.directory)
    out = CliRunner().invoke(app, ["search", "a tabby cat", "-k", "4", "--store", where])
    assert out.exit_code == 0, out.output
    assert "caption" in out.output and "visual" in out.output  # the modalities column
    js = CliRunner().invoke(app, ["search", "a tabby cat", "-k", "4", "--store", where, "--json"])
    hits = json.loads(js.output)["results"]
    assert any(m["modality"] == "caption" for h in hits for m in h.get("modalities", []))


def test_switching_the_caption_modality_changes_ranking(kind, tmp_path, kg, open_test_store, media_dir):
    """The rocket picture captioned as a cat: image-only it ranks below the cat photo's neighbours, with its
    caption as a modality it climbs (the query is not its caption)."""
    ranks = {}
    for encoder in ("default", "captioned"):
        sg = open_graph(kind, tmp_path / encoder, kg, open_test_store, encoder)
        try:
            rep = sg.ingest(records(media_dir))
            assert rep.ingested == 4, rep.skipped
            hits = sg.search_result("a cat sleeping", k=4).hits
            ranks[encoder] = [h.media_id for h in hits]
            if encoder == "default":
                assert all(not h.modalities for h in hits)
        finally:
            sg.store.close()
    assert ranks["default"] != ranks["captioned"]
    assert ranks["captioned"].index("rocket") < ranks["default"].index("rocket")


def test_match_head_scores_each_block_as_search_does(captioned):
    """The match head's training parts for a store with modality blocks are the engine's own: per block and
    centred inside each block only (a second, whole-vector centring made its sim2 differ from search's)."""
    from sensegraph.matcher.pairs import formula_parts, query_senses

    captioned.config = captioned.config.merged({"search": {"centre_min_media": 2}})  # four media: centre them anyway
    text = "a tabby cat"
    res = captioned.search_result(text, k=4)
    ids = [h.media_id for h in res.hits]
    media = captioned.store.get_media(ids, vectors=True)
    joint = np.stack([media[i].embedding for i in ids])
    native = np.stack([media[i].features for i in ids])
    linked, unrep = query_senses(captioned.engine, captioned.linker.link(text))
    parts = formula_parts(captioned.engine.embed_texts([text])[0], joint, native, linked, unrep,
                          captioned.config.search.beta, captioned.engine)
    np.testing.assert_allclose(parts.sim2, [h.sim2 for h in res.hits], atol=1e-4)
    np.testing.assert_allclose(parts.sim1, [h.sim1 for h in res.hits], atol=1e-4)
