"""create_encoder: registry lookup and a clear error listing the known names."""
from __future__ import annotations

import pytest

from sensegraph.encoders import create_encoder, encoder_names
from sensegraph.errors import ConfigError


def test_unknown_name_lists_known():
    with pytest.raises(ConfigError) as err:
        create_encoder("nope")
    assert "default" in str(err.value) and "open_clip:<model>" in str(err.value)


def test_names():
    assert {"default", "open_clip:<model>"} <= set(encoder_names())


def test_empty_name_rejected():
    with pytest.raises(ConfigError):
        create_encoder("  ")
    with pytest.raises(ConfigError, match="model name"):
        create_encoder("open_clip:")
