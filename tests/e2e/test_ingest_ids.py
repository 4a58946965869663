"""An id names one file: ingest (Python and REST ``/ingest``) refuses an id that names other bytes and
bytes stored under another id, by name, on both stores; the same bytes under the same id stay idempotent."""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from sensegraph.service import create_app

TOKEN = "ids-test-token"


def _state(sg, media_id):
    """What a collision must not change: the medium's row and its evidence."""
    m = sg.store.get_media([media_id], vectors=False).get(media_id)
    ev = sorted((e.sense_id, e.source, e.detached) for e in sg.store.evidence(media_id=media_id))
    return (m.uri, m.sha256, m.caption) if m else None, ev


def test_a_new_file_under_an_existing_id_is_refused_and_the_medium_kept(sg, photo_dir):
    sg.ingest([{"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat", "id": "pet"}])
    before, counts = _state(sg, "pet"), sg.store.counts()
    report = sg.ingest([{"media": str(photo_dir / "coffee.png"), "text": "a cup of coffee", "id": "pet"}])
    assert report.ingested == 0 and [s.kind for s in report.skipped] == ["id_conflict"]
    assert "'pet' already names a different file" in report.skipped[0].reason
    assert "a tabby cat" in report.skipped[0].reason  # says which medium holds the id
    assert _state(sg, "pet") == before and sg.store.counts() == counts
    assert sg.store.media_by_sha256(sg.store.get_media(["pet"])["pet"].sha256).media_id == "pet"


def test_the_same_bytes_under_the_same_id_stay_idempotent(sg, photo_dir):
    rec = {"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat", "id": "pet"}
    sg.ingest([rec])
    before, counts = _state(sg, "pet"), sg.store.counts()
    again = sg.ingest([rec, dict(rec)])
    assert again.ingested == 0 and again.already_present == 2 and not again.skipped
    assert _state(sg, "pet") == before and sg.store.counts() == counts


def test_the_same_bytes_under_a_new_id_are_refused_by_name(sg, photo_dir):
    sg.ingest([{"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat", "id": "pet"}])
    before, counts = _state(sg, "pet"), sg.store.counts()
    report = sg.ingest([{"media": str(photo_dir / "chelsea.png"), "text": "my neighbour's cat", "id": "other"}])
    assert report.ingested == 0 and [s.kind for s in report.skipped] == ["duplicate"]
    assert "same bytes as stored medium 'pet'" in report.skipped[0].reason
    assert "'other'" in report.skipped[0].reason
    assert _state(sg, "pet") == before and sg.store.counts() == counts
    # without an id the same bytes are simply already present
    assert sg.ingest([{"media": str(photo_dir / "chelsea.png")}]).already_present == 1


def test_collisions_inside_one_batch_are_refused_too(sg, photo_dir):
    report = sg.ingest([
        {"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat", "id": "a"},
        {"media": str(photo_dir / "coffee.png"), "text": "a cup of coffee", "id": "a"},   # id of other bytes
        {"media": str(photo_dir / "chelsea.png"), "text": "the cat again", "id": "b"},    # bytes of another id
        {"media": str(photo_dir / "chelsea.png"), "text": "the cat again", "id": "a"},    # same bytes, same id
    ])
    assert report.ingested == 1 and report.already_present == 1
    assert sorted(s.kind for s in report.skipped) == ["duplicate", "id_conflict"]
    assert sg.store.get_media(["a"], vectors=False)["a"].caption == "a tabby cat"
    assert sg.store.get_media(["b"], vectors=False) == {}


def test_rest_ingest_refuses_an_id_collision_and_get_media_is_unchanged(sg, photo_dir):
    sg.config.service.token = TOKEN
    sg.config.service.max_body_bytes = 4_000_000
    client = TestClient(create_app(sg))
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def upload(name, text, media_id, status=200):
        data = base64.b64encode((photo_dir / name).read_bytes()).decode()
        r = client.post("/ingest", json={"records": [{"data": data, "filename": name, "text": text, "id": media_id}]},
                        headers=auth)
        assert r.status_code == status, r.text  # 422 NothingIngested when the one record was refused
        return r.json()

    assert upload("chelsea.png", "a tabby cat", "pet")["ingested"] == 1
    before = client.get("/media/pet").json()
    body = upload("coffee.png", "a cup of coffee", "pet", status=422)
    assert body["ingested"] == 0 and body["skipped"][0]["kind"] == "id_conflict"
    assert "'pet' already names a different file" in body["skipped"][0]["reason"]
    assert client.get("/media/pet").json() == before  # uri, sha256, caption and evidence untouched
    body = upload("chelsea.png", "another caption", "cat2", status=422)
    assert body["skipped"][0]["kind"] == "duplicate" and "'pet'" in body["skipped"][0]["reason"]
    assert client.get("/media/pet").json() == before
    assert upload("chelsea.png", "a tabby cat", "pet")["already_present"] == 1  # idempotent re-upload
    assert client.get("/media/pet").json() == before


@pytest.mark.parametrize("cmd", ["ingest"])
def test_cli_ingest_lists_collisions_with_their_hint(sg, photo_dir, tmp_path, store_kind, cmd):
    import json
    import shutil

    from typer.testing import CliRunner

    from sensegraph.cli import app

    folder = tmp_path / "m"
    shutil.copytree(photo_dir, folder)
    sg.ingest([{"media": str(folder / "chelsea.png"), "text": "a tabby cat", "id": "pet"}])
    (folder / "manifest.jsonl").write_text(json.dumps({"media": "coffee.png", "text": "coffee", "id": "pet"}) + "\n")
    r = CliRunner().invoke(app, [cmd, str(folder / "manifest.jsonl"), "--store", sg.store.describe()])
    assert r.exit_code == 1, r.output
    assert "skipped 1 (id conflict): an id names one file" in r.stdout and "'pet'" in r.stdout
