"""Curation operations on both stores: prototypes follow the edits, the audit trail records them, undo restores."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sensegraph.errors import NotFound, ValidationError
from sensegraph.graph.prototypes import build_prototype

from .conftest import CAT, COFFEE, CUP, DOMESTIC_CAT


def proto(sg, sense_id):
    return sg.store.get_prototypes([sense_id]).get(sense_id)


def mean_of(sg, media_ids):
    feats = sg.store.get_media(list(media_ids))
    return build_prototype("x", np.stack([feats[m].features for m in media_ids]), np.ones(len(media_ids))).vector


def edge(sg, media_id, sense_id):
    return next((e for e in sg.store.evidence(media_id=media_id) if e.sense_id == sense_id), None)


def test_detach_rebuilds_the_prototype_and_undo_restores_edge_and_prototype(sg):
    original, linker_edge = proto(sg, CAT).vector.copy(), edge(sg, "coffee", CAT)
    entry = sg.detach("coffee", CAT, user="ann")
    e = edge(sg, "coffee", CAT)
    assert (e.source, e.detached, e.confidence) == ("editor", True, linker_edge.confidence)
    assert np.allclose(proto(sg, CAT).vector, mean_of(sg, ["cat1", "cat2", "cat3"]), atol=1e-5)
    assert sg.store.get_senses([CAT])[CAT].media_count == 3
    logged = sg.audit(CAT)
    assert [(a.action, a.user, a.audit_id) for a in logged] == [("detach", "ann", entry.audit_id)]
    assert json.loads(logged[0].before)["evidence"][0]["source"] == "linker"

    sg.undo(entry.audit_id, user="ann")
    assert edge(sg, "coffee", CAT) == linker_edge
    assert np.allclose(proto(sg, CAT).vector, original, atol=1e-5)
    assert [(a.action, a.undone) for a in sg.audit(CAT)] == [("undo detach", False), ("detach", True)]
    with pytest.raises(ValidationError, match="already undone"):
        sg.undo(entry.audit_id)


def test_attach_pins_with_weight_one_and_a_reingest_keeps_it(sg):
    sg.attach("moto", CAT)
    e = edge(sg, "moto", CAT)
    assert (e.source, e.detached, e.confidence) == ("editor", False, 1.0)
    assert np.allclose(proto(sg, CAT).vector, mean_of(sg, ["cat1", "cat2", "cat3", "coffee", "moto"]), atol=1e-5)
    from sensegraph.graph.model import Evidence

    sg.store.upsert_evidence([Evidence("moto", CAT, 0.2, "linker")])  # what a re-ingest writes
    assert edge(sg, "moto", CAT).source == "editor"


def test_undo_refuses_when_a_later_edit_changed_the_same_edge(sg):
    first = sg.detach("coffee", CAT)
    second = sg.attach("coffee", CAT)
    with pytest.raises(ValidationError, match="undo the later edit first"):
        sg.undo(first.audit_id)
    sg.undo(second.audit_id)
    sg.undo(first.audit_id)
    assert edge(sg, "coffee", CAT).source == "linker"


def test_move_evidence_is_one_edit_and_undoable(sg):
    entry = sg.move_evidence(["coffee"], CAT, COFFEE)
    assert edge(sg, "coffee", CAT).detached and edge(sg, "coffee", COFFEE).source == "editor"
    assert set(entry.sense_ids) == {CAT, COFFEE}
    sg.undo(entry.audit_id)
    assert edge(sg, "coffee", CAT).source == "linker" and edge(sg, "coffee", COFFEE).source == "linker"


def test_split_a_cluster_into_a_new_sense_and_undo_it(sg):
    groups = sg.curator().clusters(CAT)
    assert sorted(map(sorted, groups)) == [["cat1", "cat2", "cat3"], ["coffee"]]  # the photos, not the captions
    idx = groups.index(["coffee"])
    entry = sg.split_sense(CAT, "cat.cafe", "cat cafe", "a cafe where cats live", cluster=idx)
    new = sg.store.get_senses(["cat.cafe"])["cat.cafe"]
    assert (new.label, new.media_count) == ("cat cafe", 1)
    assert np.allclose(proto(sg, CAT).vector, mean_of(sg, ["cat1", "cat2", "cat3"]), atol=1e-5)
    assert any(r.type == "split_from" and r.target == CAT for r in sg.store.neighbours(["cat.cafe"]))
    assert "cat" in {a.text for a in sg.store.aliases_of("cat.cafe")}  # same entities as the old sense
    with pytest.raises(ValidationError, match="already exists"):
        sg.split_sense(CAT, "cat.cafe", "again", media_ids=["cat1"])

    sg.undo(entry.audit_id)
    assert edge(sg, "coffee", CAT).source == "linker"
    assert sg.store.resolve("cat.cafe") == CAT
    assert sg.store.get_senses([CAT])[CAT].media_count == 4
    # the split-off sense is retired, not merged: no names, no relations, no evidence, no prototype
    assert sg.store.has_sense_of(["cat.cafe"]) == [] and sg.store.aliases_of("cat.cafe") == []
    assert sg.store.neighbours(["cat.cafe"]) == [] and sg.store.evidence(sense_id="cat.cafe") == []
    assert proto(sg, "cat.cafe") is None
    assert "cat.cafe" not in {a.sense_id for a in sg.store.alias_table()}
    assert np.allclose(proto(sg, CAT).vector, mean_of(sg, ["cat1", "cat2", "cat3", "coffee"]), atol=1e-5)


def test_undo_split_refuses_when_the_new_sense_gained_evidence(sg):
    entry = sg.split_sense(CAT, "cat.cafe", "cat cafe", media_ids=["coffee"])
    sg.attach("moto", "cat.cafe")
    with pytest.raises(ValidationError, match="evidence added after the split"):
        sg.undo(entry.audit_id)


def state(sg):
    """Everything a merge touches, comparable: senses, links, relations, evidence, prototypes."""
    store = sg.store
    senses = sorted((s for b in store.iter_senses() for s in b), key=lambda s: s.sense_id)
    ids = [s.sense_id for s in senses]
    protos = {k: (p.source, p.media_count, np.round(p.vector, 5).tolist()) for k, p in store.get_prototypes(ids).items()}
    return {
        "senses": senses, "counts": store.counts(),
        "links": sorted(store.has_sense_of(ids), key=lambda h: (h.entity_id, h.sense_id)),
        "relations": sorted((r for b in store.iter_relations() for r in b), key=lambda r: (r.source, r.target, r.type)),
        "evidence": sorted(store.evidence(), key=lambda e: (e.media_id, e.sense_id)),
        "prototypes": protos,
    }


def test_merge_carries_evidence_and_aliases_and_redirects_and_undo_restores_all(sg):
    sg.curator().updater.update([CUP])  # make sure both senses hold their media prototypes
    curated = np.ones(len(proto(sg, COFFEE).vector), dtype=np.float32) / np.sqrt(len(proto(sg, COFFEE).vector))
    from sensegraph.graph.model import Prototype

    sg.store.clear_prototype(CUP)
    sg.store.set_prototypes([Prototype(CUP, curated, "curated")])
    start = state(sg)
    assert sg.link("a cup on the table") and any(m.sense_id == CUP for m in sg.link("a cup on the table"))
    entry = sg.merge_senses(COFFEE, CUP)
    assert sg.store.resolve(CUP) == COFFEE
    assert "cup" in {a.text for a in sg.store.aliases_of(COFFEE)}
    assert proto(sg, CUP) is None and proto(sg, COFFEE) is not None
    before = json.loads(entry.before)
    assert before["drop"]["sense_id"] == CUP and before["drop_evidence"]
    with pytest.raises(ValidationError, match="merged into"):
        sg.detach("coffee", CUP)

    undo = sg.undo(entry.audit_id)
    assert undo.action == "undo merge" and state(sg) == start
    assert sg.store.resolve(CUP) == CUP and proto(sg, CUP).source == "curated"
    assert any(m.sense_id == CUP for m in sg.link("a cup on the table"))  # the linker sees cup again
    assert [(a.action, a.undone) for a in sg.audit(CUP)][:2] == [("undo merge", False), ("merge", True)]


def test_undo_merge_refuses_after_a_later_edit_of_the_carried_evidence(sg):
    entry = sg.merge_senses(COFFEE, CUP)
    carried = json.loads(entry.after)["keep_evidence"]
    assert carried, "the cup sense had evidence to carry over"
    later = sg.detach(carried[0]["media_id"], COFFEE)
    with pytest.raises(ValidationError, match="undo the later edit first"):
        sg.undo(entry.audit_id)
    sg.undo(later.audit_id)
    sg.undo(entry.audit_id)
    assert sg.store.resolve(CUP) == CUP


def test_new_alias_reaches_the_linker_at_once(sg):
    assert all(m.sense_id != CAT for m in sg.link("a moggy asleep on the sofa"))  # builds and caches the linker
    entry = sg.edit_sense(CAT, add_aliases=["moggy"], user="ann")
    linked = sg.link("a moggy asleep on the sofa")
    assert [(m.text, m.sense_id) for m in linked if m.sense_id] == [("moggy", CAT)]
    assert json.loads(entry.after)["aliases_added"] == ["moggy"]
    counts = sg.store.counts()
    sg.undo(entry.audit_id, user="ann")
    assert all(m.sense_id != CAT for m in sg.link("a moggy asleep on the sofa"))
    assert "moggy" not in {a.text for a in sg.store.aliases_of(CAT)}
    after = sg.store.counts()
    assert (after["entities"], after["aliases"]) == (counts["entities"] - 1, counts["aliases"] - 1)
    assert sg.store.find_senses("moggy") == []


def test_undo_of_an_alias_keeps_a_name_another_sense_took_since(sg):
    first = sg.edit_sense(CAT, add_aliases=["moggy"])
    sg.edit_sense(DOMESTIC_CAT, add_aliases=["Moggy"])  # the same editor entity, now naming two senses
    sg.undo(first.audit_id)
    assert [s.sense_id for s in sg.store.find_senses("moggy")] == [DOMESTIC_CAT]
    assert [(m.text, m.sense_id) for m in sg.link("the moggy is asleep") if m.sense_id] == [("moggy", DOMESTIC_CAT)]


def test_edit_label_and_gloss_then_undo(sg):
    old = sg.store.get_senses([CAT])[CAT]
    entry = sg.edit_sense(CAT, label="house cat", gloss="<b>bold</b> '}) DETACH DELETE n //")
    s = sg.store.get_senses([CAT])[CAT]
    assert (s.label, s.gloss) == ("house cat", "<b>bold</b> '}) DETACH DELETE n //")
    sg.undo(entry.audit_id)
    s = sg.store.get_senses([CAT])[CAT]
    assert (s.label, s.gloss) == (old.label, old.gloss)
    with pytest.raises(ValidationError, match="nothing to change"):
        sg.edit_sense(CAT, label=old.label)


def test_pin_mention_overrides_the_linker_for_that_medium(sg):
    entry = sg.pin_mention("coffee", "cat", DOMESTIC_CAT)
    pinned, old = edge(sg, "coffee", DOMESTIC_CAT), edge(sg, "coffee", CAT)
    assert (pinned.source, pinned.detached, pinned.mention) == ("editor", False, "cat")
    assert (old.source, old.detached) == ("editor", True)
    assert edge(sg, "coffee", COFFEE).source == "linker"  # other mentions untouched
    assert set(entry.sense_ids) == {DOMESTIC_CAT, CAT}
    with pytest.raises(ValidationError, match="does not occur in the caption"):
        sg.pin_mention("coffee", "dog", DOMESTIC_CAT)
    sg.undo(entry.audit_id)
    assert edge(sg, "coffee", DOMESTIC_CAT) is None and edge(sg, "coffee", CAT).source == "linker"


def test_unknown_ids_name_the_id_and_write_nothing(sg):
    counts = sg.store.counts()
    with pytest.raises(NotFound, match="n99999999"):
        sg.detach("coffee", "n99999999")
    with pytest.raises(NotFound, match="no-such-medium"):
        sg.attach("no-such-medium", CAT)
    with pytest.raises(NotFound, match="no-such-medium"):
        sg.move_evidence(["cat1", "no-such-medium"], CAT, COFFEE)
    with pytest.raises(NotFound, match="n99999999"):
        sg.merge_senses(CAT, "n99999999")
    with pytest.raises(ValidationError, match="not evidence"):
        sg.split_sense(CAT, "cat.x", "x", media_ids=["rocket"])
    with pytest.raises(ValidationError, match="new sense id"):
        sg.split_sense(CAT, "bad id with spaces", "x", media_ids=["cat1"])
    with pytest.raises(NotFound, match="deadbeef"):
        sg.undo("deadbeef")
    assert sg.store.counts() == counts and sg.audit() == []
