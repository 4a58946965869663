"""``search.ann_threshold``, ``search.compress_threshold`` and ``search.rescore`` reach the embedded store
(issue 19: ann_threshold set to 5 used to leave the store at 20000)."""
from __future__ import annotations

import numpy as np

from sensegraph import SenseGraph
from sensegraph.errors import ConfigError
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Media


def _fill(path, n: int = 60) -> None:
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(n, 8)).astype(np.float32)
    with EmbeddedStore(path) as s:
        s.upsert_media([Media(f"m{i}", f"file:///{i}", "image", embedding=v, features=v[:4]) for i, v in enumerate(vecs)])


def _query(sg: SenseGraph) -> None:
    sg.store.search_match(np.ones(8, np.float32), np.ones(4, np.float32), 5)


def test_ann_threshold_from_the_config_decides_when_the_store_builds_its_index(tmp_path):
    d = tmp_path / "store"
    _fill(d)
    with SenseGraph(str(d)) as sg:  # default 20000: 60 media are searched exactly, no index file
        assert sg.store.ann_threshold == 20_000
        _query(sg)
    assert not (d / "ann-match.faiss").exists()
    with SenseGraph(str(d), config={"search": {"ann_threshold": 5}}) as sg:
        assert sg.store.ann_threshold == 5
        _query(sg)
    assert (d / "ann-match.faiss").exists()


def test_a_saved_or_assigned_config_reaches_the_store(tmp_path):
    d = tmp_path / "store"
    _fill(d)
    with SenseGraph(str(d), config={"search": {"ann_threshold": 7, "rescore": 9}}) as sg:
        sg.save_config()
    with SenseGraph(str(d)) as sg:  # the store's saved configuration applies on the next open
        assert (sg.store.ann_threshold, sg.store.rescore) == (7, 9)
        _query(sg)
        assert not sg.store._search.tables["joint"].spilled
        sg.config = sg.config.merged({"search": {"compress_threshold": 10}})  # as the eval harness swaps modes
        assert sg.store.compress_threshold == 10
        _query(sg)
        assert sg.store._search.tables["joint"].spilled
    store = EmbeddedStore(d)
    try:  # a store handed in is configured too
        with SenseGraph(store, config={"search": {"ann_threshold": 11}}):
            assert store.ann_threshold == 11
    finally:
        store.close()


def test_a_bad_setting_names_the_key(tmp_path):
    import pytest

    with pytest.raises(ConfigError, match="search.rescore"):
        SenseGraph(str(tmp_path / "s"), config={"search": {"rescore": 0}})
