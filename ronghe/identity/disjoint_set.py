"""Disjoint sets over record indexes, for the places that only need connected components.

The clustering itself (`clustering.py`) keeps a profile per cluster and checks
conflicts before every merge; this one joins unconditionally.
"""

from __future__ import annotations


class DisjointSet:
    """Union-find with path halving; a set's root is its smallest index."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        parent = self.parent
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def union(self, left: int, right: int) -> None:
        a, b = self.find(left), self.find(right)
        if a != b:
            self.parent[max(a, b)] = min(a, b)
