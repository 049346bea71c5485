"""The NTU-25 skeleton graph and ST-GCN's "spatial" 3-subset partition (Yan et al., AAAI 2018, §3.4).

Built from :data:`skelzs.stream.layouts.NTU25` bones. The partition splits each joint's 1-hop
neighbourhood into the root, the joints closer to the centre (SpineShoulder, index 20) and the
joints farther from it; every subset is column-normalised (``A · D⁻¹``) as in the ST-GCN code that
PGFA uses (papers.md A.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Graph", "ntu25_graph", "hop_distance", "normalize_digraph"]


def hop_distance(num_nodes: int, edges, max_hop: int = 1) -> np.ndarray:
    """Shortest-path hop count between joints (``inf`` beyond ``max_hop``)."""
    a = np.zeros((num_nodes, num_nodes))
    for i, j in edges:
        a[i, j] = a[j, i] = 1
    dist = np.full((num_nodes, num_nodes), np.inf)
    powers = [np.linalg.matrix_power(a, d) for d in range(max_hop + 1)]
    reach = np.stack(powers) > 0
    for d in range(max_hop, -1, -1):
        dist[reach[d]] = d
    return dist


def normalize_digraph(a: np.ndarray) -> np.ndarray:
    """``A · D⁻¹`` with D the column degree (ST-GCN ``normalize_digraph``)."""
    deg = a.sum(0)
    inv = np.where(deg > 0, 1.0 / np.where(deg > 0, deg, 1.0), 0.0)
    return a @ np.diag(inv)


@dataclass(frozen=True)
class Graph:
    """Adjacency subsets ``A`` of shape ``(K, V, V)`` (float32) and the edges they came from."""

    A: np.ndarray
    edges: tuple[tuple[int, int], ...]
    center: int

    @property
    def num_nodes(self) -> int:
        return int(self.A.shape[-1])

    @property
    def num_subsets(self) -> int:
        return int(self.A.shape[0])


def spatial_partition(num_nodes: int, edges, center: int, max_hop: int = 1) -> np.ndarray:
    """ST-GCN "spatial" strategy: subsets root, centripetal, centrifugal → ``(3, V, V)``."""
    dist = hop_distance(num_nodes, edges, max_hop)
    adjacency = (dist <= max_hop).astype(np.float64)
    norm = normalize_digraph(adjacency)
    subsets = []
    for hop in range(max_hop + 1):
        root, close, far = (np.zeros((num_nodes, num_nodes)) for _ in range(3))
        for i in range(num_nodes):
            for j in range(num_nodes):
                if dist[j, i] != hop:
                    continue
                if dist[j, center] == dist[i, center]:
                    root[j, i] = norm[j, i]
                elif dist[j, center] > dist[i, center]:
                    close[j, i] = norm[j, i]
                else:
                    far[j, i] = norm[j, i]
        if hop == 0:
            subsets.append(root)
        else:
            subsets.extend([root + close, far])
    return np.stack(subsets).astype(np.float32)


def ntu25_graph() -> Graph:
    """The NTU RGB+D 25-joint graph with the spatial 3-subset partition, centre joint 20."""
    from skelzs.stream.layouts import NTU25

    edges = tuple((int(c), int(p)) for c, p in NTU25.bones)
    return Graph(A=spatial_partition(len(NTU25.joints), edges, int(NTU25.center)), edges=edges,
                 center=int(NTU25.center))
