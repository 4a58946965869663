"""Neo4j's paired [ê | f̂ | pad] rows: a store written before them is upgraded once, on bind or on
its first search, in the database, idempotently; until then the formula is answered by a scan."""
from __future__ import annotations

import numpy as np
import pytest

from sensegraph.errors import ConfigError, ValidationError
from sensegraph.graph.model import MediaFilter
from sensegraph.graph.neo4j_store import PAIRED_INDEX, PAIRED_META, Neo4jStore

from .conftest import ENCODER_ID, JOINT_DIM, NATIVE_DIM
from .test_store_contract import formula, media, unit

COUNT_PAIRED = "MATCH (m:Media) WHERE m.paired IS NOT NULL RETURN count(m) AS n"


def _legacy(store: Neo4jStore, rng, *, drop_index: bool) -> tuple[list, np.ndarray, np.ndarray]:
    """A bound store with media, then made to look like one from before paired rows."""
    store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    ms = ([media(rng, f"m{i:02d}") for i in range(20)] + [media(rng, f"j{i}", native=False) for i in range(3)]
          + [media(rng, f"n{i}", joint=False) for i in range(3)] + [media(rng, "none", joint=False, native=False)])
    store.upsert_media(ms)
    store._run("MATCH (m:Media) REMOVE m.paired", write=True)
    store._run("MATCH (k:SenseGraphMeta {key: $key}) DELETE k", {"key": PAIRED_META}, write=True)
    if drop_index:
        store._run(f"DROP INDEX {PAIRED_INDEX} IF EXISTS", write=True)
    qj, qn = 0.6 * unit(rng, JOINT_DIM), 0.4 * unit(rng, NATIVE_DIM)
    want = sorted(((m.media_id, formula(m, qj, qn)) for m in ms if m.media_id != "none"), key=lambda t: -t[1])
    return want, qj, qn


def _assert_formula(got, want) -> None:
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)


def test_a_store_without_the_paired_index_scans_then_is_upgraded_on_bind(neo4j_store, rng):
    want, qj, qn = _legacy(neo4j_store, rng, drop_index=True)
    reopened = Neo4jStore(neo4j_store.uri)
    try:
        _assert_formula(reopened.search_match(qj, qn, 40), want)  # no paired index yet: the exact scan
        assert reopened._run(COUNT_PAIRED)[0]["n"] == 0
        reopened.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)  # as SenseGraph does on open
        assert reopened._run(COUNT_PAIRED)[0]["n"] == len(want)  # every medium with a vector, "none" not
        assert reopened.get_meta(PAIRED_META) == "1"
        _assert_formula(reopened.search_match(qj, qn, 40), want)
        top = reopened.search_match(qj, qn, 5)
        _assert_formula(top, want[:5])
    finally:
        reopened.close()


def test_a_store_with_media_lacking_paired_rows_is_upgraded_on_first_search_idempotently(neo4j_store, rng):
    want, qj, qn = _legacy(neo4j_store, rng, drop_index=False)
    reopened = Neo4jStore(neo4j_store.uri)  # not bound: the first search upgrades
    try:
        _assert_formula(reopened.search_match(qj, qn, 40), want)
        assert reopened._run(COUNT_PAIRED)[0]["n"] == len(want)
        paired = {r["id"]: r["p"] for r in reopened._run("MATCH (m:Media) RETURN m.media_id AS id, m.paired AS p")}
        again = Neo4jStore(neo4j_store.uri)
        try:
            again._paired_ready = False  # as if the flag were missed: the upgrade finds nothing to write
            assert again._upgrade_paired() == 0
        finally:
            again.close()
        assert {r["id"]: r["p"] for r in reopened._run("MATCH (m:Media) RETURN m.media_id AS id, m.paired AS p")} == paired
        # a paired row has norm sqrt(2): both parts, or one part and the pad
        norms = {m: float(np.linalg.norm(p)) for m, p in paired.items() if p is not None}
        np.testing.assert_allclose(list(norms.values()), np.sqrt(2.0), rtol=1e-6)
        assert paired["none"] is None
        assert len(paired["j0"]) == JOINT_DIM + NATIVE_DIM + 1 and paired["j0"][-1] == 1.0 and paired["m00"][-1] == 0.0
    finally:
        reopened.close()


def _fetches(store: Neo4jStore) -> list[int]:
    """Record the beam (``$fetch``) of every paired-index query the store sends."""
    seen: list[int] = []
    run = store._run

    def spy(query, params=None, **kw):
        if params and params.get("index") == PAIRED_INDEX:
            seen.append(params["fetch"])
        return run(query, params, **kw)

    store._run = spy
    return seen


def test_the_paired_index_is_asked_for_overfetch_times_k_and_the_config_sets_the_factor(neo4j_store, rng):
    """Lucene searches each index segment with the beam asked, so a merged index needs more than K'
    (docs/neo4j.md): the store asks max(ceil(f·k), 100), f from ``search.neo4j_overfetch``."""
    from sensegraph import SenseGraph

    neo4j_store.bind_encoder(ENCODER_ID, JOINT_DIM, NATIVE_DIM)
    ms = [media(rng, f"m{i:02d}") for i in range(30)]
    neo4j_store.upsert_media(ms)
    qj, qn = 0.6 * unit(rng, JOINT_DIM), 0.4 * unit(rng, NATIVE_DIM)
    want = sorted(((m.media_id, formula(m, qj, qn)) for m in ms), key=lambda t: -t[1])
    seen = _fetches(neo4j_store)
    _assert_formula(neo4j_store.search_match(qj, qn, 100), want)
    neo4j_store.search_match(qj, qn, 10)
    assert seen == [300, 100]  # the default factor 3; never below 100
    with SenseGraph(neo4j_store, config={"search": {"neo4j_overfetch": 3.5}}) as sg:
        seen.clear()
        _assert_formula(sg.store.search_match(qj, qn, 100), want)
        assert seen == [350]
        sg.config = sg.config.merged({"search": {"neo4j_overfetch": 1}})  # as the eval harness swaps settings
        seen.clear()
        sg.store.search_match(qj, qn, 150, filters=MediaFilter(exclude_ids=("m00",)))
        assert seen == [151]  # plus the excluded ids
        with pytest.raises(ValidationError, match="paired_overfetch"):
            sg.store.configure_vectors(paired_overfetch=0.5)
        with pytest.raises(ConfigError, match="neo4j_overfetch"):
            sg.config = sg.config.merged({"search": {"neo4j_overfetch": 0}})
