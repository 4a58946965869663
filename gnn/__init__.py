"""GNN evidence propagation: sense graph data, layers, training and inference (PyG), and the non-learned methods.

``torch_geometric`` is imported only by the modules that need it (model, layers, sampler, training,
evaluation), each through ``gnn/_pyg.py`` (its import-time ``jit.script`` warning silenced). Reading the
graph (``data``), the non-learned methods (``baselines``) and writing prototypes (``infer``) need only
torch, so the automatic update after an ingest (neighbour-mean) never pays PyG's import.
"""
from __future__ import annotations
