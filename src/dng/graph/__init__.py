"""Neural graphs of MLPs (:mod:`dng.graph.neural`): the dynamic one (a sequence of layer
snapshots, Wu et al.), the static one (Kofinas et al. 2024), and the static graph's edge list in
PyTorch Geometric's layout."""

from dng.graph.neural import (Snapshot, StaticGraph, dynamic_graph, edge_index, edge_values,
                              static_graph)

__all__ = ["Snapshot", "StaticGraph", "dynamic_graph", "edge_index", "edge_values",
           "static_graph"]
