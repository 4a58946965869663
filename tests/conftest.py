"""Fixtures shared by every test area (kept small: area fixtures live in each area's conftest)."""
from __future__ import annotations

import os

import numpy as np
import pytest

pytest_plugins = ("pytester",)  # tests/reliability/test_neo4j_skip_notice.py runs pytest inside pytest

NEO4J_ENV = "SENSEGRAPH_TEST_NEO4J"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed, so vector tests are reproducible."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session", autouse=True)
def shared_embedding_cache(tmp_path_factory):
    """One embedding cache for every SenseGraph the suite opens (keyed by encoder id and content).

    Each test still gets a fresh store; only model outputs for identical bytes or texts are reused,
    which is what the cache promises users too.
    """
    import os

    path = tmp_path_factory.mktemp("sensegraph-cache")
    old = os.environ.get("SENSEGRAPH_CACHE_DIR")
    os.environ["SENSEGRAPH_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SENSEGRAPH_CACHE_DIR", None)
    else:
        os.environ["SENSEGRAPH_CACHE_DIR"] = old


def _neo4j_store():
    """The wiped Neo4j at $SENSEGRAPH_TEST_NEO4J; skipped when unset, failing when set but unreachable."""
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        pytest.skip(f"{NEO4J_ENV} is not set (set it to a bolt:// URI of Neo4j 5.26 or later, auth disabled, to run this)")
    from sensegraph.graph.factory import open_store

    store = open_store(uri)
    store.wipe()
    return store


def _open_test_store(kind: str, directory):
    """An empty store of ``kind``: an EmbeddedStore in ``directory``, or the wiped test Neo4j."""
    if kind == "embedded":
        from sensegraph.graph.embedded import EmbeddedStore

        return EmbeddedStore(directory)
    return _neo4j_store()


@pytest.fixture
def open_test_store():
    """The one way tests open a store of a kind ("embedded" or "neo4j"; the Neo4j one wiped, skipped
    when $SENSEGRAPH_TEST_NEO4J is unset): area fixtures that fill stores call it."""
    return _open_test_store


@pytest.fixture
def neo4j_store():
    """The wiped test Neo4j alone (for what only Neo4jStore does), wiped again and closed after."""
    store = _neo4j_store()
    try:
        yield store
    finally:
        store.wipe()
        store.close()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, tmp_path):
    """An empty store of each kind (the contract and KG-import suites run on both)."""
    s = _open_test_store(request.param, tmp_path / "store")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never ``playwright install``), one for the whole run:
    Playwright's sync API keeps an event loop running while it is open, so a second one (or an
    ``asyncio.run`` in the main thread) cannot start beside it."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def mpnet_pieces():
    """all-mpnet-base-v2's five installed zip pieces (``mpnet.zip_pieces()``); skipped, naming the
    ``pip install`` to run, when a part or its piece is missing."""
    from sensegraph.encoders import mpnet
    from sensegraph.errors import ConfigError

    try:
        return mpnet.zip_pieces()
    except ConfigError as exc:
        pytest.skip(str(exc))


def _neo4j_skips(terminalreporter) -> int:
    """How many tests of this run were skipped because $SENSEGRAPH_TEST_NEO4J is unset."""
    n = 0
    for rep in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(rep, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        n += NEO4J_ENV in str(reason)
    return n


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say loudly, after the short summary, when the Neo4j half of the store contract did not run: a
    green run then covers the embedded store only."""
    yield
    skipped = _neo4j_skips(terminalreporter)
    if skipped and not os.environ.get(NEO4J_ENV):
        terminalreporter.write_sep("!", f"NEO4J NOT TESTED: {skipped} Neo4j tests skipped because {NEO4J_ENV} is unset", red=True, bold=True)
        terminalreporter.write_line(f"start one with `sensegraph neo4j start --port PORT --data DIR` and set {NEO4J_ENV}=bolt://127.0.0.1:PORT")
