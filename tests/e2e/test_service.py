"""The REST service over a real store and the real encoder: search, link, ingest with auth, limits."""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from sensegraph.config import SenseGraphConfig
from sensegraph.service import create_app

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def client(sg, photo_dir):
    sg.ingest_manifest(photo_dir / "manifest.jsonl")
    sg.config.service.token = TOKEN
    sg.config.service.max_body_bytes = 2_000_000
    return TestClient(create_app(sg))


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_search_returns_explained_results(client):
    r = client.get("/search", params={"q": "a cup of coffee", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == "a cup of coffee"
    assert body["results"][0]["media_id"] == "coffee"
    first = body["results"][0]
    assert set(first) == {"rank", "media_id", "uri", "match", "sim1", "sim2", "senses"}
    a, b = body["metadata"]["alpha"], body["metadata"]["beta"]
    assert first["match"] == pytest.approx(a * first["sim1"] + b * first["sim2"], abs=1e-5)
    assert {m["text"] for m in body["linked"]} >= {"coffee"}
    assert body["metadata"]["encoder"].startswith("conse")
    post = client.post("/search", json={"q": "a cup of coffee", "k": 3, "beta": 0})
    assert post.status_code == 200 and all(h["sim2"] == 0 for h in post.json()["results"])


def test_link_senses_and_media_routes(client):
    r = client.post("/link", json={"q": "a tabby cat"})
    assert r.status_code == 200
    [mention] = r.json()["mentions"]
    assert mention["text"] == "tabby cat" and mention["sense_id"] == "n02123045"
    sense = client.get("/senses/n02123045").json()
    assert sense["label"] and any(e["media_id"] == "chelsea" for e in sense["evidence"])
    assert client.get("/senses/n99999999").status_code == 404
    media = client.get("/media/chelsea").json()
    assert any(s["sense_id"] == "n02123045" for s in media["senses"])
    assert client.get("/media/chelsea/content").status_code == 200
    assert client.get("/senses", params={"q": "tabby"}).json()[0]["sense_id"] == "n02123045"


def test_writes_need_the_token(client, photo_dir):
    data = base64.b64encode((photo_dir / "rocket.jpg").read_bytes()).decode()
    body = {"records": [{"data": data, "filename": "r.jpg", "text": "a rocket", "id": "rocket-upload"}]}
    assert client.post("/ingest", json=body).status_code == 401
    assert client.post("/ingest", json=body, headers=_auth("wrong")).status_code == 401
    assert client.post("/ingest", json=body, headers=_auth(TOKEN + "x")).status_code == 401
    r = client.post("/ingest", json=body, headers=_auth())
    assert r.status_code == 422 and r.json()["error"] == "NothingIngested", r.text  # the record went nowhere
    # same bytes as the ingested rocket photo: under a new id refused by name, without one already there
    assert r.json()["skipped"][0]["kind"] == "duplicate" and "rocket" in r.json()["skipped"][0]["reason"]
    del body["records"][0]["id"]
    r = client.post("/ingest", json=body, headers=_auth())
    assert r.status_code == 200, r.text
    assert r.json()["already_present"] == 1


def test_limits_and_validation(client):
    assert client.post("/search", json={"q": "", "k": 3}).status_code == 422
    assert client.get("/search", params={"q": "x", "k": 0}).status_code == 422
    big = {"q": "x" * 5000, "k": 1, "filters": {"modality": "y" * 2_100_000}}
    assert client.post("/search", json=big).status_code == 413
    bad = client.post("/search", json={"q": "cat", "filters": {"colour": "red"}})
    assert bad.status_code == 422 and "unknown filter" in bad.json()["detail"]
    assert client.post("/ingest", json={"records": [{"data": "!!!", "filename": "x.png"}]}, headers=_auth()).status_code == 422


def test_config_hides_the_token(client):
    cfg = client.get("/config").json()
    assert "token" not in cfg["service"] and cfg["search"]["alpha"] == SenseGraphConfig().search.alpha


ROUTES = {("/search", "get"): "SearchResponse", ("/search", "post"): "SearchResponse", ("/link", "post"): "LinkResponse",
          ("/senses", "get"): "SenseSummary", ("/senses/{sense_id}", "get"): "SenseView",
          ("/media/{media_id}", "get"): "MediaResponse", ("/recommend/{media_id}", "get"): "SearchResponse",
          ("/ingest", "post"): "IngestReport", ("/stats", "get"): "StatsResponse", ("/config", "get"): "SenseGraphConfig",
          ("/health", "get"): "HealthResponse"}


def test_openapi_documents_every_result_and_the_error_body(tmp_path):
    from sensegraph import SenseGraph

    with SenseGraph(str(tmp_path / "bare")) as bare:
        spec = TestClient(create_app(bare)).get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for (path, method), name in ROUTES.items():
        ok = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        ref = ok.get("$ref") or ok.get("items", {}).get("$ref")
        assert ref == f"#/components/schemas/{name}", (path, method, ok)
        assert schemas[name]["properties"], name
    assert {"sim1", "sim2", "senses", "match"} <= set(schemas["Hit"]["properties"])
    assert set(schemas["MentionOut"]["properties"]) >= {"sense_id", "confidence", "candidates"}
    not_found = spec["paths"]["/senses/{sense_id}"]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert not_found["$ref"] == "#/components/schemas/ErrorBody"


def test_every_answer_validates_against_its_declared_model(client, photo_dir):
    from sensegraph import service_models as sm

    def check(model, r):
        assert r.status_code == 200, r.text
        model.model_validate(r.json())
        return r.json()

    body = check(sm.SearchResponse, client.get("/search", params={"q": "a cup of coffee", "k": 3}))
    assert "head" not in body["results"][0] and "caption" not in body["results"][0]  # absent stays absent
    check(sm.LinkResponse, client.post("/link", json={"q": "a tabby cat"}))
    found = client.get("/senses", params={"q": "tabby"}).json()
    assert found and all(sm.SenseSummary.model_validate(x) for x in found)
    check(sm.SenseView, client.get("/senses/n02123045"))
    check(sm.MediaResponse, client.get("/media/chelsea"))
    check(sm.SearchResponse, client.get("/recommend/chelsea", params={"k": 2}))
    stats = check(sm.StatsResponse, client.get("/stats"))
    assert stats["media"] >= 1 and stats["encoder"].startswith("conse")
    cfg = check(SenseGraphConfig, client.get("/config"))
    assert "token" not in cfg["service"]
    data = base64.b64encode((photo_dir / "rocket.jpg").read_bytes()).decode()
    body = {"records": [{"data": data, "filename": "r.jpg", "text": "a rocket"}]}  # the manifest's rocket again
    assert check(sm.IngestReport, client.post("/ingest", json=body, headers=_auth()))["already_present"] == 1
