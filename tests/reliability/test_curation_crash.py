"""Curator edits and their audit rows after kill -9 (issue 17 #5: "a merge landed with no audit row in 3
of 4 trials, an alias edit in 2 of 2"), on both stores.

The real ``SenseGraph`` runs a merge or an alias edit in a subprocess that SIGKILLs itself at a chosen
point, deterministically instead of after a guessed delay. An edit, its prototype update and its audit
row are one store transaction (issue 19), so a kill leaves all of them or none:

* ``inside``: as the edit writes its audit row, its last step before the commit: nothing lands.
* ``committed``: the instant the edit's transaction returns: the edit lands with its audit row.
* ``follow-up``: in the work after the commit (the linker's refresh, the automatic propagation):
  where the issue's kills landed; the edit and its audit row stand.
"""
from __future__ import annotations

import subprocess
import textwrap

import pytest

from .conftest import cli_env, fresh_store_dir, neo4j_uri

CAT, DOMESTIC_CAT = "n02121620", "n02127808"  # cat, big cat
USER = "crash-test"

CHILD = textwrap.dedent("""
    import os, signal, sys
    from sensegraph import SenseGraph

    uri, action, point = sys.argv[1:4]
    sg = SenseGraph(uri)

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "committed":  # the edit's (outermost) transaction returns, then the process dies
        cls = type(sg.store)
        original, depth = cls.transaction, []

        def then_die(self, work):
            depth.append(work)
            result = original(self, work)
            depth.pop()
            if not depth:
                die()
            return result

        cls.transaction = then_die
    elif point == "inside":  # the transaction's view is the store (or a copy of it): its audit write dies
        sg.store.add_audit = die
    else:  # dies in the follow-up work after the commit: linker tables, propagation
        import sensegraph.propagation

        sensegraph.propagation.auto_propagate = die
        SenseGraph.refresh_linker = die
    if action == "merge":
        sg.merge_senses(%(cat)r, %(domestic)r, user=%(user)r)
    else:
        sg.edit_sense(%(cat)r, add_aliases=["moggy"], user=%(user)r)
    print("the edit finished without the planned crash")
""") % {"cat": CAT, "domestic": DOMESTIC_CAT, "user": USER}


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_uri(request, template, tmp_path):
    """A store holding the KG (the template's copy, or the wiped test Neo4j filled with it)."""
    if request.param == "embedded":
        return str(fresh_store_dir(template, tmp_path / "store"))
    request.getfixturevalue("neo4j_kg_store")  # wiped and filled; skips without SENSEGRAPH_TEST_NEO4J
    return neo4j_uri()


def _crash(uri: str, action: str, point: str) -> None:
    proc = subprocess.run([__import__("sys").executable, "-c", CHILD, uri, action, point], env=cli_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, f"the child did not die by SIGKILL ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"


def _after_crash(uri: str, action: str) -> tuple[bool, list[str]]:
    """(whether the edit landed, the crash-test user's audit actions) read by a fresh process's store."""
    from sensegraph.graph.factory import open_store

    store = open_store(uri)
    try:
        if action == "merge":
            landed = store.get_senses([DOMESTIC_CAT])[DOMESTIC_CAT].redirect_to == CAT
        else:
            landed = "moggy" in {a.text for a in store.aliases_of(CAT)}
        audit = [e.action for e in store.audit_log(limit=1000) if e.user == USER]
    finally:
        store.close()
    return landed, audit


@pytest.mark.parametrize("action", ["merge", "edit"])
def test_a_crash_in_the_follow_up_work_leaves_the_edit_audited(store_uri, action):
    _crash(store_uri, action, "follow-up")
    landed, audit = _after_crash(store_uri, action)
    assert landed, "the edit's transaction should have committed before the crash"
    assert audit == [action], f"the {action} landed without its audit row"


@pytest.mark.parametrize("action", ["merge", "edit"])
def test_a_crash_right_after_the_edit_commits_leaves_it_audited(store_uri, action):
    _crash(store_uri, action, "committed")
    landed, audit = _after_crash(store_uri, action)
    assert landed and audit == [action]


@pytest.mark.parametrize("action", ["merge", "edit"])
def test_a_crash_before_the_edit_commits_leaves_neither_edit_nor_audit_row(store_uri, action):
    _crash(store_uri, action, "inside")
    landed, audit = _after_crash(store_uri, action)
    assert not landed and audit == [], f"a {action} killed before its commit left landed={landed}, audit={audit}"
