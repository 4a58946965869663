"""Protocol set-up on the real core set, and the CI slice end to end with the real default encoder."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sensegraph.errors import ValidationError
from sensegraph.evaluation.dataset import load_evalset
from sensegraph.evaluation.harness import (
    QueryOutcome,
    by_kind,
    evaluate_protocol,
    ingest_records,
    modes,
    restrict,
)

CORE = Path(__file__).resolve().parents[3] / "evalsets" / "core"
HAVE_OPENCLIPART = Path("/usr/share/openclipart/png").is_dir()


@pytest.fixture(scope="module")
def core():
    return load_evalset(CORE)


@pytest.mark.skipif(not HAVE_OPENCLIPART, reason="openclipart-png not installed")
def test_captioned_protocol_ingests_everything_with_captions(core):
    records, gallery = ingest_records(core, "captioned")
    assert len(records) == len(core.media) and gallery == {m.id for m in core.media}
    assert all(r["text"] and Path(r["media"]).is_file() for r in records)


@pytest.mark.skipif(not HAVE_OPENCLIPART, reason="openclipart-png not installed")
def test_cold_protocol_gallery_is_uncaptioned_and_queries_target_it(core):
    records, gallery = ingest_records(core, "cold")
    text = {r["id"]: r["text"] for r in records}
    assert gallery and all(text[i] is None for i in gallery)
    assert all(text[i] for i in set(text) - gallery)
    pairs = restrict(core.select("test"), gallery)
    assert pairs and all(set(gold) <= gallery and gold for _, gold in pairs)
    # a query whose gold is all captioned evidence is dropped
    assert len(pairs) < len(core.select("test"))


def test_unknown_protocol_and_mode_are_named(core):
    with pytest.raises(ValidationError, match="protocol must be one of"):
        ingest_records(core, "warm")
    with pytest.raises(ValidationError, match="unknown mode"):
        modes(["oracle"])


def test_by_kind_averages_per_kind_and_overall():
    outs = [
        QueryOutcome("a", "a", "plain", ["x"], ["x"], {}, [], []),
        QueryOutcome("b", "b", "ambiguous", ["x"], ["y", "x"], {}, [], []),
    ]
    table = by_kind(outs)
    assert table["plain"]["hit@1"] == 1.0 and table["ambiguous"]["MRR"] == 0.5
    assert table["all"]["n"] == 2 and table["all"]["hit@1"] == 0.5
    assert "ambiguous_context" not in table


def _engine_ready() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in
               ("sensegraph.encoders.cache", "sensegraph.encoders.factory", "sensegraph.linking.linker"))


@pytest.mark.slow
@pytest.mark.skipif(not (HAVE_OPENCLIPART and _engine_ready()), reason="needs openclipart-png and the full engine")
def test_ci_slice_sense_aware_not_below_text_only(core, tmp_path):
    """The CI gate: on the ambiguous slice, sense-aware must not fall below text-only (captioned protocol)."""
    ids = [l for l in (CORE / "ci.txt").read_text().splitlines() if l and not l.startswith("#")]
    rep = evaluate_protocol(core, "captioned", split="test", store=str(tmp_path), query_ids=ids,
                            mode_names=["text-only", "sense-aware"])
    by_mode = {m.mode: m.by_kind["all"] for m in rep.modes}
    text, sense = by_mode["text-only"], by_mode["sense-aware"]
    assert rep.queries >= 20
    assert 0.0 < text["MRR"] <= 1.0
    assert sense["MRR"] >= text["MRR"], (sense, text)
    assert sense["hit@1"] >= text["hit@1"], (sense, text)
