"""The storage protocol's names: every read and write kind ``graph/core.py`` asks for, each adapter
answers (a missing one would surface as a KeyError deep inside some call, on one store only)."""
from __future__ import annotations

from sensegraph.graph import core, cypher, embedded, embedded_schema, neo4j_store

NEO4J_SPECIAL = {"meta", "audit", "media", "prototypes"}  # kinds Neo4jStore._put writes with their own statements


def test_both_adapters_name_every_read_of_the_core():
    assert set(core.READS) - set(embedded_schema.READS) == set()
    assert set(core.READS) - set(cypher.READS) == set()
    assert "sense_prototypes" in cypher.READS  # Neo4j's one-query _sense_slots


def test_both_adapters_write_every_kind_of_the_core():
    assert set(core.PUT_KINDS) - set(embedded.PUT) == set()
    assert set(core.PUT_KINDS) - set(neo4j_store.PUT) - NEO4J_SPECIAL == set()
    assert set(embedded.COUNTED) >= {f"patch_{s}" for s in core.PATCH_STEPS}  # an undo counts what it changed


def test_both_adapters_scan_what_the_core_pages():
    assert set(embedded_schema.SCANS) == set(cypher.SCANS) == {"senses", "relations", "media"}
