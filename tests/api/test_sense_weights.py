"""w_k: normalised linking weights, each scaled by how far its prototype is trusted (api/search.py)."""
import numpy as np

from sensegraph.graph.model import Prototype
from sensegraph.search import LinkedSense, sense_weights


def _ls(sid: str, conf: float, trust: float = 1.0) -> LinkedSense:
    return LinkedSense(sid, conf, Prototype(sense_id=sid, vector=np.ones(4, np.float32)), trust=trust)


def test_own_prototypes_share_all_of_the_weight():
    assert np.allclose(sense_weights([_ls("a", 3.0), _ls("b", 1.0)]), [0.75, 0.25])


def test_a_propagated_prototype_keeps_only_its_trust_of_its_share():
    """One linked sense standing in through a propagated prototype of confidence 0.4 weighs 0.4, not 1:
    normalising first and scaling after is what keeps a guess from taking all of β."""
    assert np.allclose(sense_weights([_ls("a", 0.9, trust=0.4)]), [0.4])
    assert np.allclose(sense_weights([_ls("a", 1.0), _ls("b", 1.0, trust=0.5)]), [0.5, 0.25])


def test_unrepresented_weight_stays_out_and_empty_stays_empty():
    assert np.allclose(sense_weights([_ls("a", 1.0)], unrepresented=1.0), [0.5])
    assert sense_weights([]).shape == (0,)
