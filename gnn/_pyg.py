"""``torch_geometric``, imported once with exactly one warning silenced (modules that need PyG import this first).

PyG 2.8 calls ``torch.jit.script`` at import time (``SelectOutput``, ``ConnectOutput`` in ``nn/pool``),
which torch 2.10+ answers with a ``FutureWarning`` that users of ``sensegraph propagate`` cannot act on.
We never script anything ourselves; other warnings still show.
"""
from __future__ import annotations

import warnings

JIT_SCRIPT_DEPRECATED = r"`torch\.jit\.script` is deprecated"

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=JIT_SCRIPT_DEPRECATED, category=FutureWarning)
    import torch_geometric  # noqa: F401
