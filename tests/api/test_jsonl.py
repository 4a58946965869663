"""One JSON Lines reader (issue 19): manifests, KG files, eval sets and dev-query files report a bad
line the same way, ``FILE:LINE: what was wrong``, and skip blank lines."""
from __future__ import annotations

import pytest

from sensegraph.calibration import load_dev_queries
from sensegraph.errors import ValidationError
from sensegraph.evaluation.dataset import load_evalset
from sensegraph.graph.importers.jsonl import parse_kg
from sensegraph.ingest import read_manifest
from sensegraph.jsonl import read_jsonl


def _write(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_reader_numbers_lines_skips_blanks_and_names_bad_ones(tmp_path):
    p = _write(tmp_path / "x.jsonl", '{"a": 1}', "", "  ", '{"b": 2}')
    assert list(read_jsonl(p)) == [(1, {"a": 1}), (4, {"b": 2})]
    with pytest.raises(ValidationError, match=r"x\.jsonl:2: not valid JSON \(.* at column \d+\)"):
        list(read_jsonl(_write(tmp_path / "x.jsonl", "{}", "{nope")))
    with pytest.raises(ValidationError, match=r"x\.jsonl:1: expected a JSON object, got list"):
        list(read_jsonl(_write(tmp_path / "x.jsonl", "[1, 2]")))
    with pytest.raises(ValidationError, match=r"cannot read manifest '.*absent\.jsonl'"):
        list(read_jsonl(tmp_path / "absent.jsonl", what="manifest"))
    (tmp_path / "latin1.jsonl").write_bytes(b'{"a": "caf\xe9"}\n')
    with pytest.raises(ValidationError, match="latin1.jsonl: not UTF-8"):
        list(read_jsonl(tmp_path / "latin1.jsonl"))


def test_every_kind_of_file_reports_a_bad_line_alike(tmp_path):
    bad = ("{}", "[1]")  # line 2 is not an object

    manifest, _ = read_manifest(_write(tmp_path / "manifest.jsonl", '{"media": "a.png"}', bad[1]))
    with pytest.raises(ValidationError, match=r"manifest\.jsonl:2: expected a JSON object, got list"):
        list(manifest)
    with pytest.raises(ValidationError, match=r"kg\.jsonl:2: expected a JSON object, got list"):
        parse_kg(_write(tmp_path / "kg.jsonl", '{"kind": "entity", "id": "e", "name": "e"}', bad[1]))
    with pytest.raises(ValidationError, match=r"dev\.jsonl:2: expected a JSON object, got list"):
        load_dev_queries(_write(tmp_path / "dev.jsonl", '{"text": "a cat", "gold": ["m1"]}', bad[1]))
    es = tmp_path / "set"
    es.mkdir()
    _write(es / "media.jsonl", *bad)
    _write(es / "queries.jsonl", "{}")
    with pytest.raises(ValidationError, match=r"media\.jsonl:2: expected a JSON object, got list"):
        load_evalset(es)
