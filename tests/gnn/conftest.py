"""A small real graph for the GNN tests: a WordNet subgraph plus real packaged images, built once.

Senses: playing cards, chess pieces, citrus/apple fruit and big cats/pets from the core eval set, with
their WordNet hypernym closure; media: the eval set's images of those senses, embedded with the
default (offline, pretrained) encoder; media prototypes built by the real ``PrototypeUpdater``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import sensegraph.gnn._pyg  # noqa: F401  first import of torch_geometric, without its jit.script FutureWarning

EVALSET = Path(__file__).resolve().parents[2] / "evalsets" / "core"
GROUPS = {
    "cards": ["n04266660", "n03053788", "n03187972", "n03507048", "n03589093", "n03618219", "n04033425"],
    "chess": ["n03618101", "n04033287", "n03624767", "n02844056", "n02980625", "n03901750"],
    "fruit": ["n07747607", "n07739125", "n07749582", "n07749731"],
    "animals": ["n02129165", "n02129604", "n02121620", "n02084071"],
}
SENSES = [s for group in GROUPS.values() for s in group]


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Small tensors: one thread avoids oversubscription when test processes share the two cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def eval_media():
    """(media rows of the chosen senses, {media_id: native features}, {media_id: senses}, encoder)."""
    from sensegraph.encoders.factory import create_encoder
    from sensegraph.evaluation import load_evalset, resolve_media

    evalset = load_evalset(EVALSET)
    rows = [m for m in evalset.media if m.senses[0] in SENSES]
    encoder = create_encoder("default")
    emb = encoder.embed_media([resolve_media(m.media, evalset.root) for m in rows])
    feats = {m.id: emb.native[i] for i, m in enumerate(rows)}
    joint = {m.id: emb.joint[i] for i, m in enumerate(rows)}
    senses = {m.id: tuple(s for s in m.senses if s in SENSES) for m in rows}
    return rows, feats, joint, senses, encoder


@pytest.fixture(scope="session")
def text_encoder():
    from sensegraph.encoders.text import MiniLMTextEncoder

    return MiniLMTextEncoder()


@pytest.fixture(scope="session")
def template_store(tmp_path_factory, eval_media):
    """An embedded store with the WordNet subgraph, the media, linker evidence and media prototypes."""
    from sensegraph.config import PrototypeConfig
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers import import_wordnet
    from sensegraph.graph.model import Evidence, Media
    from sensegraph.prototype_updates import PrototypeUpdater

    rows, feats, joint, senses, encoder = eval_media
    path = tmp_path_factory.mktemp("gnn") / "template"
    store = EmbeddedStore(path)
    try:
        import_wordnet(store, synsets=SENSES)
        store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
        store.upsert_media(Media(m.id, m.media, features=feats[m.id], embedding=joint[m.id], caption=m.caption)
                           for m in rows)
        store.upsert_evidence(Evidence(m, s, 1.0) for m, ss in senses.items() for s in ss)
        PrototypeUpdater(store, PrototypeConfig()).rebuild_all()
    finally:
        store.close()
    return path


@pytest.fixture
def store(template_store, tmp_path):
    """A fresh copy of the template store."""
    from sensegraph.graph.embedded import EmbeddedStore

    dest = tmp_path / "store"
    shutil.copytree(template_store, dest)
    s = EmbeddedStore(dest)
    try:
        yield s
    finally:
        s.close()


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
