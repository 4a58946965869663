"""Training, inference and the store glue on a real WordNet subgraph with real images."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sensegraph.errors import ConfigError, EncoderMismatch
from sensegraph.gnn.data import TextFeatureCache, build_sense_graph
from sensegraph.gnn.evaluate import MediaEvidence, with_prototypes
from sensegraph.gnn.train import TrainConfig, full_forward, train
from sensegraph.graph.model import Evidence, Prototype
from sensegraph.propagation import Propagator, propagate


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


FAST = {"epochs": 80, "patience": 20}
COLD = ["n04033425", "n03624767", "n07749582", "n02129604"]  # queen card, knight, lemon, tiger


def test_held_out_sense_is_nearer_its_media_than_a_random_senses_prototype(store, text_encoder, eval_media, tmp_path):
    rows, feats, _joint, senses, _enc = eval_media
    g = build_sense_graph(store, TextFeatureCache(tmp_path / "c", text_encoder.encoder_id), text_encoder.embed_texts, hops=None)
    ev = MediaEvidence(feats, senses)
    held = {m for m, ss in senses.items() if set(ss) & set(COLD)}
    kept = [m for m in feats if m not in held]
    protos = ev.prototypes(kept)
    assert not set(COLD) & set(protos)  # the cold senses really lost all their evidence
    gf = with_prototypes(g, protos, {s: 1 for s in protos})
    cold_rows = torch.tensor([g.index[s] for s in COLD])
    result = train(gf, config=TrainConfig(**FAST), exclude=cold_rows)
    pred = full_forward(result.model, gf, gf.data.has_proto).numpy()
    others = [s for s in protos if s not in COLD]
    wins = 0
    for s in COLD:
        media = np.stack([unit(feats[m]) for m in ev.media_of(s)])
        mine = float((media @ pred[g.index[s]]).mean())
        random_protos = np.stack([protos[o] for o in others])
        theirs = (media @ random_protos.T).mean(axis=0)  # each other sense's prototype vs this sense's media
        wins += mine > float(np.median(theirs))
        assert mine > float(theirs.mean()), s
    assert wins == len(COLD)


@pytest.fixture
def propagator(store, text_encoder, tmp_path):
    return Propagator(store, text_encoder=text_encoder, train_overrides=FAST, directory=tmp_path / "gnn")


def own_slot(store):
    ids = [s.sense_id for b in store.iter_senses() for s in b]
    return store.get_prototypes(ids)


def test_propagate_writes_flagged_prototypes_and_never_touches_own(store, propagator):
    curated_vec = unit(np.linspace(1.0, 2.0, int(store.get_meta("native_dim")), dtype=np.float32))
    # a curated prototype on an evidenced sense (apple) and on a sense without media (the face-card parent)
    store.clear_prototype("n07739125")
    store.set_prototypes([Prototype("n07739125", curated_vec, source="curated"),
                          Prototype("n03314028", curated_vec, source="curated")])  # n03314028: face card
    before = own_slot(store)
    counts_before = store.counts()
    report = propagator.run()
    assert report.mode == "full" and report.trained and report.written > 0
    after = own_slot(store)
    assert set(after) == set(before)
    for sid, p in before.items():
        assert after[sid].source == p.source
        np.testing.assert_allclose(after[sid].vector, p.vector, atol=1e-6)
    assert after["n07739125"].source == "curated" and after["n03314028"].source == "curated"
    counts = store.counts()
    for key in ("prototypes_media", "prototypes_curated", "media", "evidence"):
        assert counts[key] == counts_before[key]
    assert counts["prototypes_propagated"] == report.written
    ids = [s.sense_id for b in store.iter_senses() for s in b]
    prop = store.get_prototypes(ids, propagated=True)
    assert len(prop) == report.written
    for sid, p in prop.items():
        assert p.source == "propagated" and p.strategy == "gnn" and 0.0 < p.confidence <= 1.0
        assert abs(float(np.linalg.norm(p.vector)) - 1.0) < 1e-4
        assert sid not in before or before[sid].media_count < 1 or before[sid].source == "curated"
    # a sense without media gets a propagated prototype, evidenced ones do not
    assert "n03314028" in prop and "n04033425" not in prop
    # the query engine prefers the own prototype, else the propagated one with its confidence
    from sensegraph.config import build_config
    from sensegraph.search import SearchEngine

    engine = SearchEngine(store, None, None, build_config())
    bare = next(sid for sid in sorted(prop) if sid not in before)  # no own prototype at all
    linked = {ls.sense_id: ls for ls in engine.linked_senses([("n03314028", 1.0), ("n04033425", 1.0), (bare, 0.5)])}
    assert linked["n04033425"].prototype.source == "media"
    assert linked["n03314028"].prototype.source == "curated"
    assert linked[bare].prototype.source == "propagated"
    # its linking weight stays 0.5; the propagated confidence is its trust, applied after normalising
    assert linked[bare].confidence == pytest.approx(0.5) and linked[bare].trust == pytest.approx(prop[bare].confidence)


def test_propagate_is_idempotent_and_changed_only_touches_the_neighbourhood(store, propagator):
    first = propagator.run()
    ids = [s.sense_id for b in store.iter_senses() for s in b]
    vec1 = store.get_prototypes(ids, propagated=True)
    second = propagator.run()
    vec2 = store.get_prototypes(ids, propagated=True)
    assert second.written == first.written and set(vec1) == set(vec2)
    for sid in vec1:
        np.testing.assert_allclose(vec1[sid].vector, vec2[sid].vector, atol=1e-5)
        assert vec1[sid].confidence == pytest.approx(vec2[sid].confidence, abs=1e-5)
    nothing = propagator.run(changed_only=True)
    assert nothing.mode == "unchanged" and nothing.written == 0
    # new evidence: the tiger's image also evidences "big cat"; only its 2-hop neighbourhood is re-inferred
    tiger_media = [e.media_id for e in store.evidence(sense_id="n02129604")]
    store.upsert_evidence([Evidence(m, "n02127808", 1.0) for m in tiger_media])  # n02127808: big cat
    from sensegraph.config import PrototypeConfig
    from sensegraph.prototype_updates import PrototypeUpdater

    PrototypeUpdater(store, PrototypeConfig()).update(["n02127808"])
    changed = propagator.run(changed_only=True)
    assert changed.mode == "changed" and changed.changed_senses == 1 and not changed.trained
    assert 0 < changed.written < first.written
    assert propagator.run(changed_only=True).mode == "unchanged"


def test_changed_needs_a_checkpoint_of_the_same_encoder(store, propagator, tmp_path):
    with pytest.raises(ConfigError, match="run a full `sensegraph propagate`"):
        propagator.run(changed_only=True)
    propagator.run()
    store.set_meta("encoder_id", "another-encoder@2")  # as if the store had been rebuilt with another encoder
    with pytest.raises(EncoderMismatch) as exc:
        propagator.run(changed_only=True)
    assert "another-encoder@2" in str(exc.value) and "sensegraph propagate" in str(exc.value)


def test_propagate_without_evidence_says_what_to_do(tmp_path, text_encoder):
    from sensegraph.graph.embedded import EmbeddedStore

    with EmbeddedStore(tmp_path / "empty") as st:
        with pytest.raises(Exception, match="ingest media"):
            propagate(st, text_encoder=text_encoder)


def test_cli_changed_without_checkpoint_exits_2_with_the_fix(store):
    from typer.testing import CliRunner

    from sensegraph import SenseGraph
    from sensegraph.cli import app

    SenseGraph(store, config={"propagation": {"method": "gnn"}}).save_config()  # the default is neighbour-mean

    result = CliRunner().invoke(app, ["propagate", "--changed", "--store", store.describe()])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "no GNN checkpoint" in text and "run a full `sensegraph propagate` first" in text
