"""Ingestion end to end on real photos: summary, idempotency, resumability, incremental prototypes."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest


def _prototypes(sg):
    ids = [s.sense_id for batch in sg.store.iter_senses() for s in batch if s.media_count > 0]
    return sg.store.get_prototypes(ids)


def test_ingest_reports_and_is_idempotent(sg, photo_dir, tmp_path):
    manifest = tmp_path / "m" / "manifest.jsonl"
    manifest.parent.mkdir()
    for f in photo_dir.iterdir():
        if f.suffix != ".jsonl":
            shutil.copy(f, manifest.parent / f.name)
    lines = (photo_dir / "manifest.jsonl").read_text().splitlines()
    (manifest.parent / "empty.png").write_bytes(b"")
    (manifest.parent / "notes.png").write_text("not an image at all")
    extra = [
        json.dumps({"media": "coffee.png", "text": "the same coffee photo again"}),  # same content
        json.dumps({"media": "missing.png", "text": "nothing here"}),
        json.dumps({"media": "empty.png"}),
        json.dumps({"media": "notes.png", "text": "a text file"}),
        json.dumps({"media": "../../../etc/passwd"}),
        json.dumps({"text": "no media key"}),
        json.dumps({"media": "horse.png"}),  # no text: stored, no linker evidence (same content as horse)
    ]
    manifest.write_text("\n".join(lines + extra) + "\n")

    first = sg.ingest_manifest(manifest)
    assert first.ingested == 8
    assert first.already_present == 2  # the second coffee and the second horse record
    reasons = " | ".join(s.reason for s in first.skipped)
    assert len(first.skipped) == 5, reasons
    for needle in ("missing.png", "empty", "escapes the manifest folder", "media"):
        assert needle in reasons
    counts = sg.store.counts()
    assert counts["media"] == 8 and counts["evidence"] > 8 and counts["prototypes_media"] > 0
    protos = _prototypes(sg)

    again = sg.ingest_manifest(manifest)
    assert again.ingested == 0 and again.already_present == 10
    assert sg.store.counts() == counts
    for sid, p in _prototypes(sg).items():
        np.testing.assert_allclose(p.vector, protos[sid].vector, atol=1e-5)


def test_incremental_update_equals_full_recompute(sg, photo_dir):
    records = [json.loads(l) for l in (photo_dir / "manifest.jsonl").read_text().splitlines()]
    for r in records:
        r["media"] = str(photo_dir / r["media"])
    # the same sense evidenced in several batches: every photo also says "photo"
    for r in records:
        r["text"] += " in a photograph"
    sg.ingest(records[:3])
    sg.ingest(records[3:6])
    sg.ingest(records[6:])
    incremental = _prototypes(sg)
    assert any(p.media_count >= 3 for p in incremental.values())
    sg.rebuild_prototypes()
    full = _prototypes(sg)
    assert incremental.keys() == full.keys()
    for sid in full:
        assert incremental[sid].media_count == full[sid].media_count
        np.testing.assert_allclose(incremental[sid].vector, full[sid].vector, atol=1e-5)


def test_text_is_optional_and_bad_records_do_not_stop_the_batch(sg, photo_dir):
    report = sg.ingest([
        {"media": str(photo_dir / "chelsea.png")},
        {"media": str(photo_dir / "nope.png"), "text": "missing"},
        {"media": str(photo_dir / "coffee.png"), "text": "a cup of coffee", "id": "my-coffee", "source": "test"},
    ])
    assert report.ingested == 2 and len(report.skipped) == 1
    assert sg.store.evidence(media_id="my-coffee")
    coffee = sg.store.get_media(["my-coffee"], vectors=False)["my-coffee"]
    assert coffee.metadata.get("source") == "test"
    [cat] = [m for batch in sg.store.iter_media(vectors=False) for m in batch if m.media_id != "my-coffee"]
    assert sg.store.evidence(media_id=cat.media_id) == []
    assert sg.search("a tabby cat", k=1)[0].media_id == cat.media_id  # searchable without text


@pytest.mark.parametrize("strategy", ["cluster"])
def test_cluster_prototype_resists_an_unrelated_photo(encoder, strategy):
    """A sense evidenced by three drawings of cats and one photo of coffee: `cluster` stays with the cats."""
    from sensegraph.config import PrototypeConfig
    from sensegraph.evaluation.dataset import resolve_media
    from sensegraph.graph.prototypes import build_prototype

    refs = [
        "deb:openclipart-png:animals/mammals/housecats/gatto_cat_architetto_fra_01.png",
        "deb:openclipart-png:animals/mammals/housecats/kitten_gerald_g._01.png",
        "deb:openclipart-png:animals/mammals/housecats/sleeping_cat_ron_golan_01.png",
    ]
    cats = [resolve_media(r) for r in refs]
    coffee = resolve_media("pkg:skimage:coffee.png")
    emb = encoder.embed_media([p.read_bytes() for p in cats + [coffee]])
    feats = emb.native
    w = np.ones(4)
    mean = build_prototype("s", feats, w, "mean")
    clus = build_prototype("s", feats, w, strategy, distance_threshold=PrototypeConfig().cluster_distance)
    centre = feats[:3].mean(axis=0)
    centre /= np.linalg.norm(centre)
    assert float(clus.vector @ centre) > float(mean.vector @ centre)
    assert float(clus.vector @ feats[3]) < float(mean.vector @ feats[3])
