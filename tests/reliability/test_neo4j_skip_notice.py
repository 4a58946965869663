"""A plain ``pytest`` without $SENSEGRAPH_TEST_NEO4J says loudly that the Neo4j half did not run (issue 19)."""
from __future__ import annotations

from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
TESTS = '''
def test_on_both_stores(store):
    assert store.counts() is not None

def test_plain():
    assert 1 + 1 == 2
'''


def _run(pytester, monkeypatch, body: str):
    monkeypatch.delenv("SENSEGRAPH_TEST_NEO4J", raising=False)
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8").replace('pytest_plugins = ("pytester",)', ""))
    pytester.makepyfile(test_inner=body)
    return pytester.runpytest_inprocess("-ra", "-p", "no:cacheprovider")


def test_skipped_neo4j_tests_end_the_run_with_a_loud_line(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, TESTS)
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*NEO4J NOT TESTED: 1 Neo4j tests skipped because SENSEGRAPH_TEST_NEO4J is unset*",
                                 "*sensegraph neo4j start*"])
    assert result.outlines.index(next(line for line in result.outlines if "NEO4J NOT TESTED" in line)) > \
        result.outlines.index(next(line for line in result.outlines if "short test summary" in line))


def test_a_run_without_neo4j_tests_says_nothing(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "def test_plain():\n    assert True\n")
    result.assert_outcomes(passed=1)
    assert "NEO4J NOT TESTED" not in result.stdout.str()
