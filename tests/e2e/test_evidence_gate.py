"""Gated evidence at ingest (issue 18, item 5): an unsure caption link is written as weak ``gated`` evidence,
never makes a prototype on its own, is counted by ``stats`` and listed for review; on both stores."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sensegraph.errors import ConfigError
from sensegraph.evaluation.dataset import resolve_media

GATE = {"ingest": {"evidence_gate": {"min_confidence": 0.4, "min_salience": 0.5}}, "prototypes": {"gated_weight": 0.25}}
OFF = {"ingest": {"evidence_gate": {"min_confidence": 0.0, "min_salience": 0.0}}}
MISLINKED = "a cat motorcycle"  # "cat" modifies the head noun: a minor word (and here linked to Caterpillar)


def _record(mid: str, ref: str, text: str) -> dict:
    return {"id": mid, "media": str(resolve_media(ref)), "text": text}


def _minor(sg, text: str):
    """The caption's linked mention the gate should hold back (a precondition, checked)."""
    gate = sg.config.ingest.evidence_gate
    minor = [m for m in sg.link(text) if m.sense_id and gate.gates(m.confidence, m.salience)]
    assert minor, f"no mention of {text!r} falls under the gate: {sg.link(text)}"
    return minor[0]


def test_a_minor_or_unsure_link_is_gated_and_makes_no_prototype_alone(sg):
    sg.config = sg.config.merged(GATE)
    minor = _minor(sg, MISLINKED)
    report = sg.ingest([_record("motorcycle", "pkg:skimage:motorcycle_left.png", MISLINKED)])
    assert report.evidence_gated == 1 and report.evidence_edges == 2
    edges = {e.sense_id: e for e in sg.store.evidence(media_id="motorcycle")}
    assert edges[minor.sense_id].source == "gated" and edges[minor.sense_id].mention == minor.text
    assert edges[minor.sense_id].confidence == pytest.approx(minor.confidence, abs=1e-6)  # kept as linked
    head = next(sid for sid, e in edges.items() if sid != minor.sense_id)
    assert edges[head].source == "linker"
    protos = sg.store.get_prototypes([minor.sense_id, head])
    assert head in protos and minor.sense_id not in protos  # the wrong sense got no prototype
    assert [(e.media_id, e.sense_id) for e in sg.gated_evidence()] == [("motorcycle", minor.sense_id)]
    stats = sg.stats()
    assert stats["evidence_gated"] == 1 and stats["gated_as"].startswith("weak")

    counts = sg.store.counts()  # idempotent: the same record again changes nothing
    again = sg.ingest([_record("motorcycle", "pkg:skimage:motorcycle_left.png", MISLINKED)])
    assert again.already_present == 1 and sg.store.counts() == counts
    assert [e.source for e in sg.store.evidence(media_id="motorcycle") if e.sense_id == minor.sense_id] == ["gated"]

    # with the gate off the same caption writes full evidence, and that sense gets a prototype
    sg.config = sg.config.merged(OFF)
    off = sg.ingest([_record("horse", "pkg:skimage:horse.png", MISLINKED)])
    assert off.evidence_gated == 0
    assert {e.source for e in sg.store.evidence(media_id="horse")} == {"linker"}
    proto = sg.store.get_prototypes([minor.sense_id])[minor.sense_id]
    assert proto.media_count == 2  # the ungated edge anchors it; the gated one now refines it


def test_a_mislinked_caption_pulls_a_prototype_only_weakly(sg):
    # "cat" hangs off "photograph" (salience 0.5): held back by a salience gate alone
    sg.config = sg.config.merged({"ingest": {"evidence_gate": {"min_confidence": 0.0, "min_salience": 0.6}},
                                  "prototypes": {"gated_weight": 0.25}})
    sg.ingest([_record("chelsea", "pkg:skimage:chelsea.png", "a cat")])
    (anchor,) = [e for e in sg.store.evidence(media_id="chelsea")]
    assert anchor.source == "linker", anchor
    unsure = "a photograph of a cat"
    minor = _minor(sg, unsure)
    assert minor.sense_id == anchor.sense_id, (minor, anchor)  # the same sense, linked unsure
    sg.ingest([_record("coffee", "pkg:skimage:coffee.png", unsure)])
    edge = next(e for e in sg.store.evidence(media_id="coffee") if e.sense_id == anchor.sense_id)
    assert edge.source == "gated"
    proto = sg.store.get_prototypes([anchor.sense_id])[anchor.sense_id]
    feats = {m.media_id: m.features for m in sg.store.get_media(["chelsea", "coffee"]).values()}
    chelsea, coffee = (feats[k] / np.linalg.norm(feats[k]) for k in ("chelsea", "coffee"))
    full = anchor.confidence * chelsea + edge.confidence * coffee  # what an ungated link would have written
    full /= np.linalg.norm(full)
    assert proto.media_count == 2
    assert float(proto.vector @ chelsea) > float(full @ chelsea) + 0.01
    assert float(proto.vector @ coffee) < float(full @ coffee) - 0.01


def test_the_gate_is_validated_configuration():
    from sensegraph.config import build_config

    with pytest.raises(ConfigError, match="ingest.evidence_gate.min_salience"):
        build_config({"ingest": {"evidence_gate": {"min_salience": 2}}})
    with pytest.raises(ConfigError, match="ingest.evidence_gate.minimum"):
        build_config({"ingest": {"evidence_gate": {"minimum": 0.3}}})
    with pytest.raises(ConfigError, match="prototypes.gated_weight"):
        build_config({"prototypes": {"gated_weight": -1}})


def test_stats_command_shows_the_gated_links(tmp_path, encoder, wordnet_subgraph):
    from sensegraph import SenseGraph
    from sensegraph.cli import app
    from sensegraph.graph.importers.report import write_batches

    g = wordnet_subgraph
    with SenseGraph(tmp_path / "store", encoder=encoder, config={**GATE, "prototypes": {"gated_weight": 0.0}}) as sg:
        write_batches(sg.store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense,
                      relations=g.relations)
        sg.save_config()  # stats reads the store's configuration: gated links count for nothing here
        sg.ingest([_record("motorcycle", "pkg:skimage:motorcycle_left.png", MISLINKED)])
    runner = CliRunner()
    r = runner.invoke(app, ["stats", "--store", str(tmp_path / "store"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["evidence_gated"] == 1 and data["evidence"] == 2 and data["gated_as"].startswith("none")
    r = runner.invoke(app, ["stats", "--store", str(tmp_path / "store")])
    assert r.exit_code == 0 and "evidence_gated" in r.stdout and "kept for review" in r.stdout
