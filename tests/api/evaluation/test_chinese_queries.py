"""The Chinese queries of evalsets/core: loaded with their language and English twin, reported apart."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sensegraph.errors import ValidationError
from sensegraph.evaluation.dataset import load_evalset
from sensegraph.evaluation.harness import QueryOutcome, by_kind

CORE = Path(__file__).resolve().parents[3] / "evalsets" / "core"


def test_chinese_queries_load_beside_their_english_twins():
    es = load_evalset(CORE)
    en = {q.id: q for q in es.queries if q.lang == "en"}
    zh = [q for q in es.queries if q.lang == "zh"]
    assert len(en) == 158 and len(zh) >= 100
    for q in zh:
        twin = en[q.twin]
        assert (q.kind, q.gold, q.split, q.target_senses) == (twin.kind, twin.gold, twin.split, twin.target_senses)
        assert any(0x4E00 <= ord(c) <= 0x9FFF for c in q.text) and q.text != twin.text


def _copy_core(tmp_path: Path) -> Path:
    folder = tmp_path / "core"
    folder.mkdir()
    for name in ("media.jsonl", "queries.jsonl"):
        shutil.copy(CORE / name, folder / name)
    return folder


def test_a_set_without_chinese_queries_still_loads(tmp_path):
    es = load_evalset(_copy_core(tmp_path))
    assert {q.lang for q in es.queries} == {"en"}


@pytest.mark.parametrize("field, value, message", [
    ("lang", "en", "lang 'en' does not match the file's language 'zh'"),
    ("twin", "q-nowhere", "twin 'q-nowhere' is not a query of queries.jsonl"),
])
def test_a_bad_chinese_line_names_file_line_and_field(tmp_path, field, value, message):
    folder = _copy_core(tmp_path)
    row = json.loads((CORE / "queries.zh.jsonl").read_text(encoding="utf-8").splitlines()[0])
    row[field] = value
    (folder / "queries.zh.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=rf"queries\.zh\.jsonl:1: {message}"):
        load_evalset(folder)


def test_metrics_are_reported_per_language_and_english_rows_keep_their_meaning():
    outs = [
        QueryOutcome("a", "a cat", "plain", ["x"], ["x"], {}, [], []),
        QueryOutcome("a.zh", "一只猫", "plain", ["x"], ["y", "x"], {}, [], [], "zh"),
    ]
    table = by_kind(outs)
    assert table["all"]["hit@1"] == 1.0 and table["plain"]["MRR"] == 1.0  # English only
    assert table["zh:all"]["hit@1"] == 0.0 and table["zh:plain"]["MRR"] == 0.5
    assert list(table) == ["plain", "all", "zh:plain", "zh:all"]
