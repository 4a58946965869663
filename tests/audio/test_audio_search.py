"""Sounds through SenseGraph on both stores: ingest, per-modality prototypes, search by modality, fused videos."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.config import SenseGraphConfig
from sensegraph.encoders.multimodal import NATIVE_BLOCKS
from sensegraph.fusion import block_weights

from .sounds import clip, noise, tone, wav_bytes, wav_header_claiming

# propagation is other tests' subject: here each sense's own evidence is what is checked
CONFIG = {"encoder": {"name": "multimodal"}, **({"propagation": {"auto": False}} if "propagation" in SenseGraphConfig.model_fields else {})}
WORDS = {"telephone", "phone", "cup", "coffee", "cat", "tabby", "noise", "radio", "static", "siren"}


@pytest.fixture(scope="module")
def kg():
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(select=lambda s: any(l.lower() in WORDS for l in s.lemmas))


@pytest.fixture(scope="module")
def cached_mm(mm, tmp_path_factory):
    from sensegraph.encoders.cache import CachedEncoder

    return CachedEncoder(mm, tmp_path_factory.mktemp("mm-cache"))


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def sg(request, tmp_path, kg, cached_mm, open_test_store, coffee):
    from sensegraph import SenseGraph
    from sensegraph.graph.importers.report import write_batches

    store = open_test_store(request.param, tmp_path / "store")
    write_batches(store, entities=kg.entities, aliases=kg.aliases, senses=kg.senses, has_sense=kg.has_sense, relations=kg.relations)
    graph = SenseGraph(store, encoder=cached_mm, config=CONFIG)
    store.bind_encoder(cached_mm.encoder_id, cached_mm.joint_dim, cached_mm.native_dim)
    d = tmp_path / "media"
    d.mkdir()
    import skimage.data as sd
    from PIL import Image

    coffee.save(d / "coffee.png")
    Image.fromarray(sd.chelsea()).save(d / "cat.png")
    (d / "ring.wav").write_bytes(wav_bytes(tone(440, 2.0)))
    (d / "ring2.wav").write_bytes(wav_bytes(tone(880, 2.5)))
    (d / "hiss.wav").write_bytes(wav_bytes(noise(2.0)))
    (d / "cut.wav").write_bytes(wav_header_claiming(4.0))
    (d / "fake.wav").write_bytes(b"this is a text file, not a sound\n" * 40)
    report = graph.ingest([
        {"id": "coffee", "media": str(d / "coffee.png"), "text": "a cup of coffee"},
        {"id": "cat", "media": str(d / "cat.png"), "text": "a tabby cat"},
        {"id": "ring", "media": str(d / "ring.wav"), "text": "a telephone ringing"},
        {"id": "ring2", "media": str(d / "ring2.wav"), "text": "the phone rings"},
        {"id": "hiss", "media": str(d / "hiss.wav"), "text": "static noise from a radio"},
        {"id": "cut", "media": str(d / "cut.wav"), "text": "a telephone"},
        {"id": "fake", "media": str(d / "fake.wav"), "text": "a telephone"},
    ])
    graph.report = report
    try:
        yield graph
    finally:
        store.close()


def test_bad_audio_is_skipped_and_nothing_stored(sg):
    kinds = {s.ref.split(": ")[-1].rsplit("/", 1)[-1]: (s.kind, s.reason) for s in sg.report.skipped}
    assert set(kinds) == {"cut.wav", "fake.wav"}
    assert "truncated audio" in kinds["cut.wav"][1] and kinds["cut.wav"][0] == "unreadable"
    assert "not an image, audio or video" in kinds["fake.wav"][1]
    assert sg.report.ingested == 5
    assert set(sg.store.get_media(["cut", "fake", "ring"], vectors=False)) == {"ring"}


def test_modalities_stored_from_the_bytes(sg):
    media = sg.store.get_media(["coffee", "ring", "hiss"], vectors=True)
    assert {m: media[m].modality for m in media} == {"coffee": "image", "ring": "audio", "hiss": "audio"}
    np.testing.assert_allclose(block_weights(media["ring"].features, NATIVE_BLOCKS), [0, 1], atol=1e-5)


def test_search_by_modality_and_mixed(sg):
    only = sg.search("a telephone", k=5, modality="audio")
    assert only and {h.media_id for h in only} <= {"ring", "ring2", "hiss"}
    assert only[0].media_id in {"ring", "ring2"}
    top = only[0]
    assert [p.modality for p in top.modalities] == ["audio"] and top.modalities[0].weight == pytest.approx(1, abs=1e-5)
    assert any(s.modality == "audio" and s.sim > 0 for s in top.senses)
    # the sense's audio prototype scores sounds; the image media get nothing from it
    mixed = sg.search("a telephone", k=5)
    assert mixed[0].media_id in {"ring", "ring2"}
    by_id = {h.media_id: h for h in mixed}
    if "coffee" in by_id:
        assert by_id["coffee"].sim2 == pytest.approx(0, abs=1e-6)
    cup = sg.search("a cup", k=5, modality="image")
    assert cup[0].media_id == "coffee" and {h.media_id for h in cup} <= {"coffee", "cat"}
    assert cup[0].modalities[0].modality == "visual"
    with pytest.raises(Exception, match="unknown modality 'sound'"):
        sg.search("a telephone", modality="sound")


def test_hit_json_shows_modalities(sg):
    d = sg.search_result("a telephone", k=1, modality="audio").hits[0].to_dict()
    assert d["modalities"][0]["modality"] == "audio"
    assert {s.get("modality") for s in d["senses"]} <= {"audio", "visual"}


def test_video_with_sound_fused_and_explained(sg, coffee, tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip([coffee], tone(440, 3.0), seconds_each=3.0))
    report = sg.ingest([{"id": "clip", "media": str(path), "text": "a cup of coffee and a telephone ringing"}])
    assert report.ingested == 1, report.skipped
    assert sg.store.get_media(["clip"], vectors=False)["clip"].modality == "video"
    hits = {h.media_id: h for h in sg.search("a telephone", k=10, modality="video")}
    parts = {p.modality: p for p in hits["clip"].modalities}
    assert set(parts) == {"visual", "audio"}
    assert parts["visual"].weight ** 2 + parts["audio"].weight ** 2 == pytest.approx(1, abs=1e-4)
    h = hits["clip"]
    assert sum(p.weight * p.score for p in h.modalities) == pytest.approx(h.sim2, abs=1e-4)


def test_rest_search_by_modality_and_audio_content(sg):
    from fastapi.testclient import TestClient

    from sensegraph.service import create_app

    client = TestClient(create_app(sg))
    body = client.get("/search", params={"q": "a telephone", "k": 3, "modality": "audio"}).json()
    assert body["results"] and all(r["media_id"] in {"ring", "ring2", "hiss"} for r in body["results"])
    assert body["results"][0]["modalities"][0]["modality"] == "audio"
    post = client.post("/search", json={"q": "a cup", "k": 3, "modality": "image"}).json()
    assert post["results"][0]["media_id"] == "coffee"
    bad = client.get("/search", params={"q": "a telephone", "modality": "sound"})
    assert bad.status_code in (400, 422) and "unknown modality 'sound'" in bad.text
    content = client.get("/media/ring/content")
    assert content.status_code == 200 and content.headers["content-type"] == "audio/wav"
    assert content.content[:4] == b"RIFF"


def test_cli_search_modality(sg, tmp_path):
    """``sensegraph search --modality audio`` prints only sounds (the store saved as a directory)."""
    if sg.store.name != "embedded":
        pytest.skip("the CLI test opens the embedded store by its path")
    from typer.testing import CliRunner

    from sensegraph.cli import app

    sg.save_config()  # the CLI opens the store with its saved configuration: the multimodal encoder
    res = CliRunner().invoke(app, ["search", "a telephone", "-k", "3", "--modality", "audio", "--json",
                                   "--store", sg.store.describe()])
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.output)
    assert out["results"] and {r["media_id"] for r in out["results"]} <= {"ring", "ring2", "hiss"}


def test_centring_stays_inside_each_modality(sg):
    """With centring on (a collection large enough), a sense with only image evidence still gives sounds
    nothing, and a sound's score is its own modality's: each part is centred by its modality's mean."""
    sg.config.search.centre_min_media = 2
    sg.engine.__dict__.pop("_block_means_cache", None)
    assert set(sg.engine._block_means(NATIVE_BLOCKS)) == {"visual", "audio"}
    for hit in sg.search("a cup", k=5, modality="audio"):
        assert hit.sim2 == pytest.approx(0, abs=1e-6), hit
    phone = sg.search("a telephone", k=3, modality="audio")
    assert phone[0].media_id in {"ring", "ring2"}
    for hit in phone:
        assert sum(p.weight * p.score for p in hit.modalities) == pytest.approx(hit.sim2, abs=1e-5)
