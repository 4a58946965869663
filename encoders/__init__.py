"""Encoders: the offline default (ConSE), open_clip, media loading, video, embedding cache.

Importing this package stays light (no torch): heavy modules load when an encoder is created.
"""
from __future__ import annotations

from .base import Encoder, MediaEmbedding, MediaInput, l2_normalise
from .factory import create_encoder, encoder_names

__all__ = ["Encoder", "MediaEmbedding", "MediaInput", "create_encoder", "encoder_names", "l2_normalise"]
