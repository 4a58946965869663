"""A propagated prototype predicted from an evidenced hyponym is trusted; one from siblings or parents is not."""
from __future__ import annotations

from types import SimpleNamespace

import torch

from sensegraph.gnn.data import both_directions
from sensegraph.gnn.infer import SIDEWAYS_TRUST, from_below


def _tree():
    """g ← p ← {c, s}, p ← t (instance), x —also→ p (a part-of relation, not a hyponym)."""
    names = ["g", "p", "c", "s", "t", "x"]
    ix = {n: i for i, n in enumerate(names)}
    rels = [("p", "g", "hypernym"), ("c", "p", "hypernym"), ("s", "p", "hypernym"), ("t", "p", "instance_hypernym"),
            ("x", "p", "part_holonym")]
    types = ["hypernym", "instance_hypernym", "part_holonym"]
    import numpy as np

    pairs = np.asarray([[ix[a] for a, _, _ in rels], [ix[b] for _, b, _ in rels]], dtype=np.int64)
    rel = np.asarray([types.index(t) for _, _, t in rels], dtype=np.int64)
    edge_index, edge_type = both_directions(pairs, rel)
    graph = SimpleNamespace(data=SimpleNamespace(edge_index=edge_index, edge_type=edge_type), num_nodes=len(names),
                            relation_types=types)
    return graph, ix


def test_only_senses_above_the_evidence_are_from_below():
    graph, ix = _tree()
    visible = torch.zeros(6, dtype=torch.bool)
    visible[ix["c"]] = True  # only the child has media
    below = from_below(graph, visible)
    assert below[ix["p"]] and below[ix["g"]]  # its parent and grandparent: their media are the child's
    assert not below[ix["s"]] and not below[ix["c"]] and not below[ix["t"]]  # a sibling, itself, an instance
    assert not below[ix["x"]]  # a part is no hyponym
    visible[:] = False
    visible[ix["t"]] = True  # an instance counts as below its class
    assert from_below(graph, visible)[ix["p"]]
    assert not from_below(graph, visible, hops=1)[ix["g"]]  # two steps up needs two hops
    assert 0 < SIDEWAYS_TRUST < 1
