"""Non-learned propagation methods through the store glue: the neighbourhood read from the seeds outward
is the one the full-scan reader keeps, and a run is idempotent and incremental."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.gnn.data import build_sense_graph
from sensegraph.propagation import Propagator, prototype_digests


class NoText:
    def embed(self, texts, _fn, **_):
        return np.zeros((len(texts), 1), np.float32)


def edges(g):
    ei, et = g.data.edge_index.numpy(), g.data.edge_type.numpy()
    return {(g.sense_ids[a], g.sense_ids[b], g.relation_types[t // 2], int(t % 2)) for a, b, t in zip(ei[0], ei[1], et)}


def test_the_local_read_keeps_what_the_full_scan_keeps(store):
    seeds = sorted(prototype_digests(store))[:5]
    local = Propagator(store, method="neighbour-mean")._local_graph(4, seeds, lambda _m: None)
    full = build_sense_graph(store, NoText(), None, hops=4, seeds=seeds)
    assert set(local.sense_ids) == set(full.sense_ids) and local.num_nodes > len(seeds)
    assert edges(local) == edges(full)
    own = {s for s, h in zip(local.sense_ids, local.data.has_proto.tolist()) if h}
    assert own == {s for s, h in zip(full.sense_ids, full.data.has_proto.tolist()) if h}


def test_neighbour_mean_run_is_idempotent_and_then_unchanged(store, tmp_path):
    prop = Propagator(store, method="neighbour-mean", directory=tmp_path / "gnn")
    first = prop.run()
    assert first.method == "neighbour-mean" and first.written > 0 and 0 < first.val_cosine <= 1
    ids = [s.sense_id for b in store.iter_senses() for s in b]
    written = store.get_prototypes(ids, propagated=True)
    assert {p.strategy for p in written.values()} == {"neighbour-mean"}
    again = prop.run()
    assert again.written == first.written
    rewritten = store.get_prototypes(ids, propagated=True)
    for sid, p in written.items():
        np.testing.assert_allclose(rewritten[sid].vector, p.vector, atol=1e-6)
        assert rewritten[sid].confidence == p.confidence
    assert prop.run(changed_only=True).mode == "unchanged"


def test_an_ingest_s_touched_senses_give_the_same_update_as_comparing_every_digest(template_store, tmp_path):
    import shutil

    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.model import Prototype

    results = []
    for name, touched in (("all", None), ("touched", True)):
        shutil.copytree(template_store, tmp_path / name)
        store = EmbeddedStore(tmp_path / name)
        try:
            prop = Propagator(store, method="neighbour-mean", directory=tmp_path / name / "gnn")
            prop.run()
            own = sorted(prototype_digests(store))
            changed = own[len(own) // 2]
            vec = np.linspace(-1.0, 1.0, int(store.get_meta("native_dim")), dtype=np.float32)
            store.set_prototypes([Prototype(changed, vec / np.linalg.norm(vec), source="curated", strategy="curated")])
            report = prop.run(changed_only=True, touched=[changed, own[0]] if touched else None)
            assert report.changed_senses == 1 and report.written > 0
            ids = [s.sense_id for b in store.iter_senses() for s in b]
            results.append({sid: p.vector for sid, p in store.get_prototypes(ids, propagated=True).items()})
            assert prop.run(changed_only=True).mode == "unchanged"  # the marker holds every digest again
        finally:
            store.close()
    assert results[0].keys() == results[1].keys()
    for sid, vec in results[0].items():
        np.testing.assert_allclose(results[1][sid], vec, atol=1e-6)


NO_PYG = """
import json, sys
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.propagation import Propagator
store = EmbeddedStore(sys.argv[1])
report = Propagator(store, method="neighbour-mean", directory=sys.argv[2]).run()
store.close()
print(json.dumps({"written": report.written, "pyg": "torch_geometric" in sys.modules}))
"""


def test_a_neighbour_mean_run_never_imports_torch_geometric(template_store, tmp_path):
    """The automatic update after an ingest runs neighbour-mean: it must not pay PyG's import (seconds)."""
    import json
    import shutil
    import subprocess
    import sys

    shutil.copytree(template_store, tmp_path / "s")
    out = subprocess.run([sys.executable, "-c", NO_PYG, str(tmp_path / "s"), str(tmp_path / "gnn")],
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["written"] > 0 and result["pyg"] is False


def test_a_prototype_guessed_from_siblings_and_parents_is_trusted_a_tenth(store, tmp_path):
    """Confidence keeps its full value only where an evidenced hyponym lies below the sense."""
    import torch

    from sensegraph.gnn.infer import SIDEWAYS_TRUST, from_below

    store.clear_prototype("n04033425")  # the queen card loses its prototype: only siblings and parents remain
    prop = Propagator(store, method="neighbour-mean", directory=tmp_path / "gnn")
    report = prop.run()
    graph = prop._local_graph(4, sorted(prototype_digests(store)), lambda _m: None)
    below = from_below(graph, graph.data.has_proto)
    written = store.get_prototypes(graph.sense_ids, propagated=True)
    above = [p.confidence for sid, p in written.items() if below[graph.index[sid]]]
    sideways = [p.confidence for sid, p in written.items() if not below[graph.index[sid]]]
    assert above and sideways and len(above) + len(sideways) == report.written
    assert not below[graph.index["n04033425"]] and "n04033425" in written
    assert max(sideways) <= SIDEWAYS_TRUST * report.val_cosine + 1e-6  # base × support ≤ base, then × 0.1
    assert min(above) >= 0.5 * report.val_cosine - 1e-6  # never discounted: at least half the base
    assert torch.is_tensor(below)


def test_an_update_writes_only_the_senses_within_reach_of_the_changed_one(store, tmp_path):
    """Counting rows written: after one sense's prototype changes, the update rewrites the senses without
    an own prototype within two hops of it (each of them once), and none of the other groups' senses."""
    from sensegraph.graph.model import Prototype
    from sensegraph.propagation import BASELINE_HOPS, OWN_SOURCES

    prop = Propagator(store, method="neighbour-mean", directory=tmp_path / "gnn")
    first = prop.run()
    changed = "n07749582"  # lemon: the fruit group; cards, chess pieces and cats lie far from it
    vec = np.linspace(-1.0, 1.0, int(store.get_meta("native_dim")), dtype=np.float32)
    store.set_prototypes([Prototype(changed, vec / np.linalg.norm(vec), source="curated", strategy="curated")])
    written: list[str] = []
    real = store.set_prototypes

    def counting(protos):
        protos = list(protos)
        written.extend(p.sense_id for p in protos)
        return real(protos)

    store.set_prototypes = counting
    report = prop.run(changed_only=True, touched=[changed])
    near = prop._local_graph(BASELINE_HOPS, [changed], lambda _m: None)
    senses = store.get_senses(near.sense_ids)
    bare = {s for s in near.sense_ids if senses[s].prototype_source not in OWN_SOURCES}
    assert report.changed_senses == 1 and len(written) == len(set(written)) == report.written
    assert set(written) == bare and 0 < report.written < first.written  # the other groups' guesses stay
    written.clear()
    assert prop.run(changed_only=True, touched=[changed]).mode == "unchanged" and written == []


def test_a_non_learned_update_predicts_on_one_torch_thread_and_gives_the_threads_back(store, tmp_path, monkeypatch):
    """Its many small tensor ops wait for a second thread's time slice on a busy machine; the caller's
    thread count (the encoder's) comes back afterwards, also when the update fails."""
    import torch

    from sensegraph import propagation

    seen = []
    real = propagation.predict_with_holdout

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(propagation, "predict_with_holdout", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        report = Propagator(store, method="neighbour-mean", directory=tmp_path / "gnn").run()
        assert report.written > 0 and seen == [1] and torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), propagation.one_torch_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
