"""Neo4j's paired [ê | f̂ | pad] rows: a store written before them is upgraded once, on bind or on
its first search, in the database, idempotently; until then the formula is answered by a scan."""
from __future__ import annotations

import numpy as np

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
