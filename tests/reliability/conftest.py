"""Reliability fixtures: a corpus of ~40 real packaged images, a WordNet store template, a shared
embedding cache, snapshots to compare stores, and helpers to run the real CLI in a subprocess.

The embedding cache is shared through the stored configuration (``encoder.cache_dir`` in the store
meta "config" key), so every subprocess run after the first costs linking and store writes, not the
model. Neo4j cases use ``SENSEGRAPH_TEST_NEO4J`` (wiped first) and are skipped when it is unset.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

NEO4J_ENV = "SENSEGRAPH_TEST_NEO4J"
OPENCLIPART = Path("/usr/share/openclipart/png")

# lemmas whose senses (plus hypernym closure) go into the test graph
WORDS = {
    "mouse", "computer_mouse", "keyboard", "cat", "coffee", "cup", "rocket", "horse", "moon", "camera",
    "motorcycle", "coin", "brick", "apple", "seal", "astronaut", "photograph", "drawing", "tea", "battery",
}
SKIMAGE = [  # (file under skimage/data, caption)
    ("astronaut.png", "portrait of an astronaut"), ("brick.png", "a brick wall"), ("camera.png", "a man with a camera"),
    ("chelsea.png", "a cat sitting"), ("coffee.png", "a cup of coffee"), ("coins.png", "old coins"),
    ("horse.png", "silhouette of a horse"), ("moon.png", "the surface of the moon"),
    ("motorcycle_left.png", "a red motorcycle"), ("motorcycle_right.png", "a motorcycle from the right"),
    ("rocket.jpg", "a rocket on the launch pad"), ("grass.png", "grass"), ("gravel.png", "gravel"),
    ("hubble_deep_field.jpg", "galaxies in the deep field"), ("page.png", "a printed page"),
    ("text.png", "handwritten text"), ("color.png", "a colour chart"), ("logo.png", "a drawing of a snake"),
]
CLIPART = [  # (file under /usr/share/openclipart/png, caption)
    ("food/beverages/coffee.png", "a drawing of coffee"), ("food/beverages/coffee_ganson.png", "coffee in a cup"),
    ("food/beverages/teacup_ganson.png", "a tea cup"), ("food/beverages/teacup_bw.png", "a cup of tea"),
    ("food/beverages/cuppa_schwoo_01.png", "a cup"), ("transportation/vehicles/rocket.png", "a rocket drawing"),
    ("transportation/horse.png", "a horse"), ("transportation/roadsigns/horse.png", "a sign with a horse"),
    ("transportation/motorcycle_jarno_vasama_.png", "a motorcycle drawing"),
    ("science/astronomy/full_moon_dan_gerhards_01.png", "the full moon"),
    ("science/astronomy/the_moon_dan_gerhards_01.png", "the moon at night"),
    ("electronics/camera_michael_tunniclif_01.png", "a camera"), ("electronics/camera_icon_stuart_moore_01.png", "a camera icon"),
    ("computer/hardware/keyboard_01.png", "a computer keyboard"), ("computer/mouse_the_structorr_.png", "a computer mouse"),
    ("computer/mouse_scroll_fco._andrad_01.png", "a mouse with a scroll wheel"),
    ("signs_and_symbols/money/gold_coins_in_a_stack_jo_01.png", "a stack of gold coins"),
    ("buildings/brick_frouke_01.png", "a red brick"), ("animals/seal_sek_.png", "a seal on the ice"),
    ("recreation/party/candied_apples_ganson.png", "candied apples"),
    ("education/slate-apple_benji_park_01.png", "an apple and a slate"),
    ("recreation/games/cards/two_cats_tess_brady_01.png", "two cats"),
]


@dataclass(frozen=True)
class Snapshot:
    """What "the same graph" means here: counts, evidence edges and media prototypes."""

    counts: dict
    evidence: dict  # (media sha-or-id, sense) -> (source, detached, confidence)
    prototypes: dict  # sense -> Prototype
    writes: int = 0  # embedded store: write transactions the ingest took (revision delta)

    def assert_matches(self, other: Snapshot, atol: float = 1e-5) -> None:
        assert self.counts == other.counts
        # confidences agree to float noise, not bit for bit: a re-run links only the captions a killed run
        # left, and MiniLM embeds a window batched with other windows ~1e-7 apart from alone (BLAS shapes)
        assert {k: v[:2] for k, v in self.evidence.items()} == {k: v[:2] for k, v in other.evidence.items()}
        for k, (*_, conf) in self.evidence.items():
            assert conf == pytest.approx(other.evidence[k][2], abs=atol), k
        assert set(self.prototypes) == set(other.prototypes)
        for sid, p in self.prototypes.items():
            q = other.prototypes[sid]
            assert (p.source, p.media_count, p.strategy) == (q.source, q.media_count, q.strategy), sid
            np.testing.assert_allclose(p.vector, q.vector, atol=atol, err_msg=sid)


def snapshot(store) -> Snapshot:
    """Counts, every evidence edge and every own-slot prototype of ``store``."""
    ev = {(e.media_id, e.sense_id): (e.source, e.detached, e.confidence) for e in store.evidence()}
    senses = [s.sense_id for batch in store.iter_senses() for s in batch]
    protos = store.get_prototypes(senses)
    return Snapshot(dict(store.counts()), ev, protos)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The packaged images (skimage photos + openclipart drawings) in one folder with manifest.jsonl."""
    import skimage

    if not OPENCLIPART.is_dir():
        pytest.skip(f"{OPENCLIPART} is missing (apt-get install openclipart-png)")
    data = Path(skimage.__file__).parent / "data"
    root = tmp_path_factory.mktemp("corpus")
    lines = []
    for i, (name, caption) in enumerate([(data / n, c) for n, c in SKIMAGE] + [(OPENCLIPART / n, c) for n, c in CLIPART]):
        if not name.is_file():
            continue
        target = root / f"{i:02d}-{name.name}"
        shutil.copy(name, target)
        lines.append(json.dumps({"media": target.name, "text": caption}))
    assert len(lines) >= 30, "too few packaged images found"
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def kg():
    """WordNet records for every sense of WORDS and their hypernyms (built once)."""
    from sensegraph.graph.importers.wordnet import build_graph

    return build_graph(select=lambda s: any(l.lower() in WORDS for l in s.lemmas))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One embedding cache shared by every store and subprocess of the session."""
    return tmp_path_factory.mktemp("embedding-cache")


def fill_kg(store, kg, cache_dir: Path) -> None:
    """Write the WordNet subgraph and a config pointing at the shared embedding cache."""
    from sensegraph.config import CONFIG_META_KEY
    from sensegraph.graph.importers.report import write_batches

    write_batches(store, entities=kg.entities, aliases=kg.aliases, senses=kg.senses, has_sense=kg.has_sense,
                  relations=kg.relations)
    store.set_meta(CONFIG_META_KEY, json.dumps({"encoder": {"cache_dir": str(cache_dir)}}))


@pytest.fixture(scope="session")
def template(tmp_path_factory, kg, cache_dir) -> Path:
    """An embedded store holding the KG and the cache config; tests copy it."""
    from sensegraph.graph.embedded import EmbeddedStore

    d = tmp_path_factory.mktemp("template") / "store"
    with EmbeddedStore(d) as s:
        fill_kg(s, kg, cache_dir)
    return d


def fresh_store_dir(template: Path, where: Path) -> Path:
    """A private copy of the template store."""
    shutil.copytree(template, where)
    return where


def embedded_revision(store_dir: Path) -> int:
    """The embedded store's write revision (one bump per write transaction), read without the store's code."""
    with sqlite3.connect(f"file:{store_dir / 'graph.sqlite'}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT value FROM counters WHERE name = 'rev'").fetchone()[0])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", TQDM_DISABLE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def cli(*args: str) -> list[str]:
    """The ``sensegraph`` command line run by this Python interpreter."""
    return [sys.executable, "-m", "sensegraph", *args]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(cli(*args), env=cli_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"`sensegraph {' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def clean(tmp_path_factory, template, corpus) -> Snapshot:
    """The graph one uninterrupted `sensegraph ingest` gives (also warms the embedding cache)."""
    from sensegraph.graph.embedded import EmbeddedStore

    d = fresh_store_dir(template, tmp_path_factory.mktemp("clean") / "store")
    rev0 = embedded_revision(d)
    run_cli("ingest", str(corpus / "manifest.jsonl"), "--store", str(d), "--json")
    with EmbeddedStore(d) as s:
        snap = dataclasses.replace(snapshot(s), writes=embedded_revision(d) - rev0)
    assert snap.counts["media"] >= 30 and snap.counts["prototypes_media"] >= 10, snap.counts
    return snap


def neo4j_uri() -> str:
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        pytest.skip(f"{NEO4J_ENV} is not set (a bolt:// URI of Neo4j 5.26 or later, auth disabled)")
    return uri


@pytest.fixture
def neo4j_kg_store(kg, cache_dir):
    """The shared test Neo4j, wiped, holding the KG and the cache config."""
    from sensegraph.graph.factory import open_store

    store = open_store(neo4j_uri())
    store.wipe()
    fill_kg(store, kg, cache_dir)
    try:
        yield store
    finally:
        store.close()
