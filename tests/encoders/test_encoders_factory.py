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


def test_options_are_checked_before_loading_anything():
    with pytest.raises(ConfigError, match="does not take colour.*top"):
        create_encoder("default", colour="blue")
    with pytest.raises(ConfigError, match="weights are fixed"):
        create_encoder("default", pretrained="openai")
    with pytest.raises(ConfigError, match="contradicts"):
        create_encoder("open_clip:ViT-B-32", require_pretrained=True, allow_random=True)


def test_config_section_options_are_accepted():
    from sensegraph.config import EncoderConfig

    cfg = EncoderConfig()
    enc = create_encoder(cfg.name, pretrained=cfg.pretrained, allow_download=cfg.allow_download, batch_size=cfg.batch_size)
    assert enc.encoder_id.startswith("conse-") and enc.batch_size == cfg.batch_size
