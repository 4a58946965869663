"""``GraphStore.transaction``: one write transaction whose view reads its own writes and commits all
or nothing, on both stores; ``local_dir`` says where a store's own files may live."""
from __future__ import annotations

from pathlib import Path

import pytest

from sensegraph.graph.model import AuditEntry, Entity, Evidence, HasSense, Media, Sense


class Boom(RuntimeError):
    pass


def _world(store) -> None:
    store.upsert_entities([Entity("e:a", "a")])
    store.upsert_senses([Sense("s1", "one"), Sense("s2", "two")])
    store.upsert_has_sense([HasSense("e:a", "s1", 1)])
    store.upsert_media([Media("m1", "", "image")])


def _entry(audit_id: str) -> AuditEntry:
    return AuditEntry(audit_id, "ann", "2026-01-01T00:00:00Z", "move", ("s1", "s2"), "{}", "{}")


def test_a_transaction_reads_its_own_writes_and_commits_them_together(store):
    _world(store)

    def work(view):
        view.upsert_evidence([Evidence("m1", "s1", 0.5)])
        seen = [e.sense_id for e in view.evidence(media_id="m1")]
        moved = view.move_evidence(["m1"], "s1", "s2")  # an edit inside joins the same transaction
        view.add_audit(_entry("t1"))
        return seen, moved

    assert store.transaction(work) == (["s1"], 1)
    edges = {e.sense_id: (e.source, e.detached) for e in store.evidence(media_id="m1")}
    assert edges == {"s1": ("editor", True), "s2": ("editor", False)}
    assert [e.audit_id for e in store.audit_log()] == ["t1"]


def test_a_transaction_that_fails_at_its_last_step_leaves_nothing(store):
    _world(store)
    before = (store.counts(), store.evidence(), store.audit_log(), store.get_senses(["s1", "s2"]))

    def work(view):
        view.upsert_evidence([Evidence("m1", "s1", 0.5)])
        view.merge_senses("s2", "s1")
        view.add_audit(_entry("t2"))
        raise Boom("the last step fails")

    with pytest.raises(Boom):
        store.transaction(work)
    assert (store.counts(), store.evidence(), store.audit_log(), store.get_senses(["s1", "s2"])) == before


def test_local_dir_is_the_embedded_directory_and_none_for_neo4j(store):
    if store.name == "embedded":
        assert isinstance(store.local_dir, Path) and store.local_dir == Path(store.describe())
    else:
        assert store.local_dir is None
