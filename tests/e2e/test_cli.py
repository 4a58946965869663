"""The CLI as scripts use it: JSON shapes, --queries, pins, stats/sense, and a torch-free --help."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sensegraph.cli import app

runner = CliRunner()


def test_help_and_model_free_commands_do_not_import_torch():
    code = (
        "import sys; from typer.testing import CliRunner; from sensegraph.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "assert 'torch' not in sys.modules, 'torch imported by --help'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_search_json_shape(store_dir):
    r = runner.invoke(app, ["search", "a cup of coffee", "-k", "2", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(body) == {"query", "linked", "results", "metadata"}
    meta = body["metadata"]  # as REST /search returns it
    assert meta["store"] == "embedded" and isinstance(meta["senses_without_prototype"], list)
    assert {"alpha", "beta", "text_only", "seconds"} <= set(meta)
    assert [h["rank"] for h in body["results"]] == [1, 2]
    assert body["results"][0]["media_id"] == "coffee"
    assert set(body["results"][0]["senses"][0]) == {"sense_id", "weight", "sim"}
    assert set(body["linked"][0]) == {"text", "start", "end", "sense_id", "confidence", "candidates", "pinned"}


def test_search_queries_file_and_pins(store_dir, tmp_path):
    qf = tmp_path / "q.txt"
    qf.write_text("a tabby cat\n\na rocket\n")
    r = runner.invoke(app, ["search", "--queries", str(qf), "-k", "1", "--store", store_dir])
    assert r.exit_code == 0, r.output
    lines = [json.loads(l) for l in r.stdout.strip().splitlines()]
    assert [l["query"] for l in lines] == ["a tabby cat", "a rocket"]
    pinned = runner.invoke(app, ["search", "rocket", "--sense", "rocket=n04099429", "--store", store_dir, "--json"])
    res = json.loads(pinned.stdout.strip().splitlines()[-1])["results"][0]
    assert res["senses"] == [{"sense_id": "n04099429", "weight": 1.0, "sim": pytest.approx(res["senses"][0]["sim"])}]
    bad = runner.invoke(app, ["search", "rocket", "--sense", "rocket", "--store", store_dir])
    assert bad.exit_code != 0 and "MENTION=SENSE_ID" in bad.output


def test_stats_and_sense(store_dir):
    r = runner.invoke(app, ["stats", "--store", store_dir, "--json"])
    stats = json.loads(r.stdout)
    assert stats["media"] == 8 and stats["prototypes_media"] > 0 and stats["encoder"].startswith("conse")
    r = runner.invoke(app, ["sense", "n02123045", "--store", store_dir, "--json"])
    view = json.loads(r.stdout)
    assert view["prototype_source"] == "media" and view["media_count"] == 1
    assert len(view["prototype"]) == 1280
    missing = runner.invoke(app, ["sense", "n00000000", "--store", store_dir])
    assert missing.exit_code == 2 and "no sense with id" in missing.output


def test_edit_detach_audit_and_undo(store_dir):
    from sensegraph.graph import open_store

    def evidence():
        st = open_store(store_dir)
        try:
            return {(e.sense_id, e.detached) for e in st.evidence(media_id="chelsea")}
        finally:
            st.close()

    assert ("n02123045", False) in evidence()
    r = runner.invoke(app, ["edit", "detach", "n02123045", "chelsea", "--user", "ana", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    audit_id = json.loads(r.stdout)["audit_id"]
    assert ("n02123045", True) in evidence()
    log = json.loads(runner.invoke(app, ["edit", "audit", "n02123045", "--store", store_dir, "--json"]).stdout)
    assert log[0]["audit_id"] == audit_id and log[0]["user"] == "ana" and not log[0]["undone"]
    r = runner.invoke(app, ["edit", "undo", audit_id, "--store", store_dir])
    assert r.exit_code == 0, r.output
    assert ("n02123045", False) in evidence()
    bad = runner.invoke(app, ["edit", "detach", "n00000000", "chelsea", "--store", store_dir])
    assert bad.exit_code == 2 and "n00000000" in bad.output
