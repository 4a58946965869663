"""GNN models come from the registry (issue 19): training and loading build ``ModelConfig.name`` through
``sensegraph.registry``, and an unknown name lists the registered ones."""
from __future__ import annotations

import pytest

from sensegraph import registry
from sensegraph.errors import ConfigError
from sensegraph.gnn.model import MODEL_KIND, ModelConfig, PropagationNet, build_model
from sensegraph.gnn.train import TrainConfig, train

from test_lp_skip import _graph  # tests/gnn is on sys.path (no package)


def test_the_propagation_net_is_registered_and_built_by_name():
    assert "propagation_net" in registry.names(MODEL_KIND)
    assert type(build_model(ModelConfig(text_dim=4, native_dim=8))) is PropagationNet
    with pytest.raises(ConfigError, match="unknown gnn.model 'nope'; registered gnn.models: .*propagation_net"):
        build_model(ModelConfig(text_dim=4, native_dim=8, name="nope"))


def test_training_builds_the_model_the_config_names(monkeypatch):
    built = []

    class Wider(PropagationNet):
        def __init__(self, config):
            built.append(config.name)
            super().__init__(config)

    monkeypatch.setitem(registry._REGISTRY.setdefault(MODEL_KIND, {}), "test_wider", Wider)
    result = train(_graph(), ModelConfig(text_dim=4, native_dim=8, name="test_wider"), TrainConfig(epochs=1))
    assert type(result.model) is Wider and built == ["test_wider"]
