"""``sensegraph ingest --encoder multimodal`` makes a store of sounds that later commands open with that encoder."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from sensegraph.cli import app

from .sounds import noise, tone, wav_bytes
from .test_audio_search import kg  # noqa: F401 - the WordNet subgraph


def test_ingest_with_encoder_then_search_sounds(tmp_path, kg):  # noqa: F811
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches

    store_dir = tmp_path / "store"
    with EmbeddedStore(store_dir) as store:
        write_batches(store, entities=kg.entities, aliases=kg.aliases, senses=kg.senses, has_sense=kg.has_sense, relations=kg.relations)
    media = tmp_path / "media"
    media.mkdir()
    (media / "ring.wav").write_bytes(wav_bytes(tone(440, 2.0)))
    (media / "hiss.wav").write_bytes(wav_bytes(noise(2.0)))
    (media / "manifest.jsonl").write_text(
        json.dumps({"id": "ring", "media": "ring.wav", "text": "a telephone ringing"}) + "\n"
        + json.dumps({"id": "hiss", "media": "hiss.wav", "text": "static noise from a radio"}) + "\n", encoding="utf-8")
    runner = CliRunner()
    bad = runner.invoke(app, ["ingest", str(media / "manifest.jsonl"), "--store", str(store_dir), "--encoder", "sound"])
    assert bad.exit_code == 2 and "unknown encoder 'sound'" in bad.output
    res = runner.invoke(app, ["ingest", str(media / "manifest.jsonl"), "--store", str(store_dir), "--encoder", "multimodal", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output[res.output.index("{"):])["ingested"] == 2
    out = runner.invoke(app, ["search", "a telephone", "-k", "2", "--modality", "audio", "--json", "--store", str(store_dir)])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["metadata"]["encoder"].startswith("multimodal[") and body["results"][0]["media_id"] == "ring"
    # the store now holds the multimodal encoder's vectors: the default one is refused by name
    again = runner.invoke(app, ["ingest", str(media / "manifest.jsonl"), "--store", str(store_dir), "--encoder", "default"])
    assert again.exit_code == 2 and "multimodal[" in again.output
