"""``encoder.batch_size`` is the number of records ingest embeds (and links) per call."""
from __future__ import annotations

import pytest


class CountingEncoder:
    """Forwards to the session encoder and records the size of every ``embed_media`` call."""

    def __init__(self, inner):
        self.inner = inner
        self.encoder_id, self.joint_dim, self.native_dim = inner.encoder_id, inner.joint_dim, inner.native_dim
        self.calls: list[int] = []

    def embed_media(self, media):
        self.calls.append(len(media))
        return self.inner.embed_media(media)

    def embed_texts(self, texts):
        return self.inner.embed_texts(texts)


@pytest.mark.parametrize(("batch_size", "calls"), [(2, [2, 2, 2, 2]), (3, [3, 3, 2]), (16, [8])])
def test_batch_size_sets_the_records_per_encoder_call(tmp_path, encoder, wordnet_subgraph, photo_dir, batch_size, calls):
    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches

    g = wordnet_subgraph
    store = EmbeddedStore(tmp_path / "store")
    write_batches(store, entities=g.entities, aliases=g.aliases, senses=g.senses, has_sense=g.has_sense, relations=g.relations)
    counting = CountingEncoder(encoder)
    cfg = {"encoder": {"batch_size": batch_size}, "propagation": {"auto": False}}
    with SenseGraph(store, encoder=counting, config=cfg) as sg:
        report = sg.ingest_manifest(photo_dir / "manifest.jsonl")
    store.close()
    assert report.ingested == 8
    assert counting.calls == calls
