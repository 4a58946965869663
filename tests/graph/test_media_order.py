"""Both stores page media in media_id order, so whatever reads "the first N media" (the centring mean,
api/centring.py) reads the same ones on either store, and the same data ranks the same."""
from __future__ import annotations

import numpy as np

from sensegraph.graph.model import Media


def test_iter_media_pages_by_media_id_whatever_the_write_order(store):
    store.bind_encoder("order-test", 4, 3)
    ids = ["m-09", "m-01", "z", "a-5", "m-10", "b"]  # written out of order, one per write
    for i in ids:
        store.upsert_media([Media(i, f"file:///{i}", "image", embedding=np.ones(4, np.float32),
                                  features=np.ones(3, np.float32))])
    pages = list(store.iter_media(batch_size=4, vectors=False))
    assert [len(p) for p in pages] == [4, 2]
    assert [m.media_id for p in pages for m in p] == sorted(ids)
