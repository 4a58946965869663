"""Centred prototypes: the collection's common native direction is taken out of the second similarity."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sensegraph.centring import CollectionMean, centre_senses, centred, mean_feature
from sensegraph.config import SenseGraphConfig
from sensegraph.graph.embedded import EmbeddedStore
from sensegraph.graph.model import Media, Prototype
from sensegraph.search import LinkedSense, SearchEngine

unit = lambda *x: np.asarray(x, dtype=np.float32) / np.linalg.norm(x)  # noqa: E731


def test_centred_is_the_unit_prototype_less_the_scaled_mean():
    got = centred(np.array([3.0, 4.0]), np.array([0.5, 0.0]), 0.8)
    assert got.tolist() == pytest.approx([0.6 - 0.4, 0.8])
    assert centred(np.array([3.0, 4.0]), np.array([0.5, 0.0]), 0.0).tolist() == pytest.approx([0.6, 0.8])


@pytest.fixture
def gallery(tmp_path):
    """60 typical media along one direction, and one that shows what the sense is about."""
    store = EmbeddedStore(tmp_path / "s")
    store.bind_encoder("test", 2, 3)
    rng = np.random.default_rng(0)
    typical = [unit(1.0, *(0.02 * rng.normal(size=2))) for _ in range(60)]
    media = [Media(f"typical{i}", f"file:///t{i}", embedding=unit(1, 0), features=f) for i, f in enumerate(typical)]
    media.append(Media("target", "file:///target", embedding=unit(1, 0), features=unit(0.6, 0.8, 0)))
    store.upsert_media(media)
    try:
        yield store
    finally:
        store.close()


def test_mean_feature_and_its_minimum_collection(gallery):
    mean, n = mean_feature(gallery)
    assert n == 61 and mean[0] > 0.95
    assert mean_feature(gallery, limit=10)[1] == 10
    assert CollectionMean(gallery, min_media=50).get() is not None
    assert CollectionMean(gallery, min_media=100).get() is None  # too few media for a meaningful mean


def test_centre_senses_leaves_records_without_a_mean_alone():
    ls = LinkedSense("s", 1.0, Prototype("s", unit(1, 0, 0)))
    assert centre_senses([ls], None, 1.0) == [ls]
    assert centre_senses([ls], np.zeros(2, dtype=np.float32), 1.0) == [ls]  # another space: untouched


def _top(store, centre: float) -> str:
    cfg = SenseGraphConfig().merged({"search": {"centre": centre}})
    eng = SearchEngine(store, SimpleNamespace(encoder_id="test"), None, cfg)
    sense = LinkedSense("s", 1.0, Prototype("s", unit(0.9, 0.436, 0), media_count=3))
    res = eng._rank(unit(1, 0), [sense], 3, 0.0, 1.0, None, None, "q")
    return res.hits[0].media_id


def test_centring_ranks_the_distinctive_medium_above_typical_ones(gallery):
    assert _top(gallery, 0.0).startswith("typical")  # raw cosine: the common direction wins
    assert _top(gallery, 1.0) == "target"
