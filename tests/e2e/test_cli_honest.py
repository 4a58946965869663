"""Commands that say what happened: a store that is not one, ingest's warnings, grouped skips and exit
codes, and output that reads well piped and on a narrow terminal."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sensegraph.cli import app

runner = CliRunner()

READ_COMMANDS = [
    ["stats"], ["sense", "n02123045"], ["search", "a cat"], ["link", "a cat"], ["recommend", "chelsea"],
    ["config"], ["serve", "--port", "8999"], ["edit", "audit"], ["edit", "detach", "n02123045", "chelsea"],
    ["calibrate", "evalsets/core"], ["rebuild-prototypes"], ["propagate"], ["eval-propagation"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_reading_commands_refuse_a_path_that_is_not_a_store(tmp_path, command):
    typo = tmp_path / "sensegraph-dta"
    r = runner.invoke(app, [*command, "--store", str(typo)])
    assert r.exit_code == 2, r.output
    assert "StoreNotFound" in r.stderr and str(typo) in r.stderr
    assert "sensegraph import-kg wordnet --store" in r.stderr and "sensegraph ingest" in r.stderr
    assert not typo.exists()  # nothing was created on the typo


def test_an_empty_directory_or_a_file_is_not_a_store_either(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    for path, what in ((tmp_path / "empty", "holds no store"), (tmp_path / "file", "not a directory")):
        r = runner.invoke(app, ["stats", "--store", str(path)])
        assert r.exit_code == 2 and what in r.stderr, r.output
    assert list((tmp_path / "empty").iterdir()) == []


def test_the_api_refuses_too_when_asked_and_creates_by_default(tmp_path):
    from sensegraph import SenseGraph
    from sensegraph.errors import StoreError, StoreNotFound
    from sensegraph.graph import open_store

    with pytest.raises(StoreNotFound, match="no store at"):
        SenseGraph(tmp_path / "typo", create=False)
    with pytest.raises(StoreNotFound):
        open_store(str(tmp_path / "typo"), create=False)
    assert not (tmp_path / "typo").exists()
    with SenseGraph(tmp_path / "new") as sg:  # the default still creates (import_kg / ingest need that)
        assert sg.stats()["senses"] == 0
    with SenseGraph(tmp_path / "new", create=False) as sg:  # and now it is a store
        assert sg.stats()["media"] == 0
    with pytest.raises(StoreError, match="cannot reach Neo4j"):  # a Bolt URI is a store when it answers
        open_store("bolt://127.0.0.1:1", create=False)


@pytest.mark.neo4j
def test_a_reachable_neo4j_is_a_store(neo4j_store):
    r = runner.invoke(app, ["stats", "--store", neo4j_store.describe(), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["senses"] == 0


# -- ingest ---------------------------------------------------------------------------------------------
def _manifest(folder, records) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_ingest_where_every_record_is_skipped_groups_reasons_and_exits_1(tmp_path):
    sub = tmp_path / "data"
    sub.mkdir()
    (sub / "broken.png").write_text("not an image")
    manifest = _manifest(sub, [
        {"media": "photos/a.png", "text": "a"}, {"media": "photos/b.png"}, {"media": "photos/c.png"},
        {"media": "../outside.png"}, {"text": "no media"}, {"media": "broken.png", "text": "x"},
    ])
    r = runner.invoke(app, ["ingest", manifest, "--store", str(tmp_path / "store")])
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert "skipped 3 (missing): media paths are relative to the manifest's folder" in out
    assert "skipped 1 (outside folder)" in out and "skipped 1 (invalid record)" in out
    assert "skipped 1 (unreadable)" in out
    assert out.index("skipped 3 (missing)") < out.index("skipped 1")  # the commonest reason first
    assert "photos/b.png" in out
    assert "nothing ingested: all 6 records were skipped" in r.stderr


def test_ingest_of_an_empty_manifest_exits_1(tmp_path):
    manifest = _manifest(tmp_path / "d", [])
    r = runner.invoke(app, ["ingest", manifest, "--store", str(tmp_path / "store")])
    assert r.exit_code == 1 and "holds no records" in r.stderr, r.output


def test_ingest_into_a_store_without_senses_warns_and_the_bar_has_its_total(tmp_path, photo_dir):
    folder = tmp_path / "photos"
    shutil.copytree(photo_dir, folder)
    manifest = _manifest(folder, [{"media": "chelsea.png", "text": "a tabby cat"},
                                  {"media": "coffee.png", "text": "a cup of coffee"}])
    r = runner.invoke(app, ["ingest", manifest, "--store", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    assert "warning:" in r.stderr and "holds no senses" in r.stderr and "import-kg wordnet" in r.stderr
    assert re.search(r"ingest: 100%.*\b2/2\b", r.stderr), r.stderr  # the progress bar knew the total
    body = json.loads(runner.invoke(app, ["ingest", manifest, "--store", str(tmp_path / "store"), "--json"]).stdout)
    assert body["already_present"] == 2 and "holds no senses" in body["warnings"][0]


def test_manifests_count_their_records_cheaply(tmp_path):
    from sensegraph.ingest import read_manifest

    jl = tmp_path / "m.jsonl"
    jl.write_text('{"media": "a.png"}\n\n{"media": "b.png"}\n   \n{"media": "c.png"}\n')
    csvf = tmp_path / "m.csv"
    csvf.write_text('media,text\na.png,"two\nlines"\nb.png,x\n')
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.jpg", "c.txt"):
        (folder / name).write_bytes(b"x")
    for path, n in ((jl, 3), (csvf, 2), (folder, 2)):
        records, _ = read_manifest(path)
        assert len(records) == n == len(list(records))


def test_ingest_report_without_senses_warns_in_the_api(sg, tmp_path, photo_dir, encoder):
    from sensegraph import SenseGraph

    report = sg.ingest([{"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat"}])
    assert report.warnings == []  # the store holds the WordNet subgraph
    with SenseGraph(tmp_path / "bare", encoder=encoder) as bare:
        bare.store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
        report = bare.ingest([{"media": str(photo_dir / "chelsea.png"), "text": "a tabby cat"}])
    assert report.ingested == 1 and "holds no senses" in report.warnings[0]


# -- output that reads well (store_dir: tests/e2e/conftest.py) --------------------------------------------
def test_piped_search_table_keeps_each_hit_on_one_line_with_sense_labels(store_dir):
    env = {"COLUMNS": "40", "PATH": "/usr/bin:/bin"}
    cli = str(Path(sys.executable).parent / "sensegraph")
    out = subprocess.run([cli, "search", "a tabby cat", "-k", "3",
                          "--store", store_dir], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    rows = [ln for ln in out.stdout.splitlines() if re.match(r"^\W*\s1\s", ln)]
    assert len(rows) == 1, out.stdout  # rank 1's row is one line, however narrow COLUMNS says the terminal is
    assert "chelsea" in rows[0] and "n02123045 tabby" in rows[0], out.stdout  # the sense id with its label
    assert "linked: tabby cat → n02123045 tabby" in out.stdout
    pinned = runner.invoke(app, ["search", "a tabby cat", "-k", "1", "--sense", "tabby cat=n02121620", "--store", store_dir])
    assert pinned.exit_code == 0, pinned.output
    assert "tabby cat → n02121620 cat (1.00, pinned)" in pinned.stdout, pinned.stdout


def test_edit_commands_take_senses_first_then_media(store_dir):
    r = runner.invoke(app, ["edit", "detach", "n02123045", "chelsea", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["edit", "attach", "n02123045", "chelsea", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["edit", "pin", "n02121620", "chelsea", "tabby cat", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["edit", "move", "n02121620", "n02123045", "chelsea", "--store", store_dir, "--json"])
    assert r.exit_code == 0, r.output
    old_order = runner.invoke(app, ["edit", "detach", "chelsea", "n02123045", "--store", store_dir])
    assert old_order.exit_code == 2 and "sense(s) first, then the medium" in old_order.stderr


def test_edit_audit_prints_whole_audit_ids_on_a_narrow_terminal(store_dir, monkeypatch):
    from sensegraph.cli import _common, edit

    ids = [json.loads(runner.invoke(app, ["edit", cmd, "n02123045", "chelsea", "--store", store_dir, "--json"]).stdout)["audit_id"]
           for cmd in ("detach", "attach")]
    buf = io.StringIO()
    monkeypatch.setattr(edit, "console", _common._Console(file=buf, force_terminal=True, width=70))
    r = runner.invoke(app, ["edit", "audit", "--store", store_dir])
    assert r.exit_code == 0, r.output
    text = buf.getvalue()
    for audit_id in ids:
        assert audit_id in text, text  # whole, on one line: `edit undo` needs it
