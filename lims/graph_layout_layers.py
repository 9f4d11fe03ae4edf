"""Rows of a layered drawing and the dummy nodes of long edges (pure Python, no Django).

Nodes are indexes 0..n-1; edges are (parent, child) pairs. Every parent ends up strictly above
each of its children, and an edge spanning k rows becomes a chain through k - 1 dummy nodes
(indexes n, n+1, ...) so that every edge of the proper graph joins adjacent rows.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True)
class ProperGraph:
    real: int  # nodes 0..real-1 are the graph's own, the rest dummies
    row: list[int]  # row of every node, 0 at the top
    up: list[list[int]]  # neighbours in the row above
    down: list[list[int]]  # neighbours in the row below
    chains: dict[tuple[int, int], list[int]]  # (parent, child) -> [parent, dummies..., child]
    rows: list[list[int]]  # a first order within each row: depth first from the sources


def topological(n: int, edges: list[tuple[int, int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """Nodes in topological order (lowest index first among the ready ones) and the edges kept.

    The database refuses cycles; should one slip through, the edges closing it are dropped
    here (and so not drawn) rather than looping.
    """
    children: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for parent, child in edges:
        children[parent].append(child)
        indegree[child] += 1
    kept, done, order = set(edges), [False] * n, []
    ready = [v for v in range(n) if indegree[v] == 0]
    while len(order) < n:
        if not ready:
            stuck = min(v for v in range(n) if not done[v])
            kept -= {(p, c) for p, c in kept if c == stuck and not done[p]}
            ready.append(stuck)
        v = heapq.heappop(ready)
        done[v] = True
        order.append(v)
        for child in children[v]:
            if (v, child) in kept and not done[child]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, child)
    return order, [e for e in edges if e in kept]


def assign_rows(n: int, edges: list[tuple[int, int]], pull_down: list[bool]) -> list[int]:
    """Longest path from the sources; then each `pull_down` node (the focus's ancestors) moves
    down to sit just above its highest child, so a raw material stands next to its first use."""
    order, edges = topological(n, edges)
    parents: list[list[int]] = [[] for _ in range(n)]
    children: list[list[int]] = [[] for _ in range(n)]
    for parent, child in edges:
        parents[child].append(parent)
        children[parent].append(child)
    row = [0] * n
    for v in order:
        row[v] = max((row[p] + 1 for p in parents[v]), default=0)
    for v in reversed(order):
        if pull_down[v] and children[v]:
            row[v] = min(row[c] for c in children[v]) - 1
    top = min(row, default=0)
    return [r - top for r in row]


def split_long_edges(row: list[int], edges: list[tuple[int, int]]) -> ProperGraph:
    """Chains of dummy nodes for edges crossing rows; edges must point down (row[p] < row[c])."""
    n = len(row)
    row = list(row)
    up: list[list[int]] = [[] for _ in range(n)]
    down: list[list[int]] = [[] for _ in range(n)]
    chains = {}
    for parent, child in sorted(edges):
        chain = [parent]
        for r in range(row[parent] + 1, row[child]):
            chain.append(len(row))
            row.append(r)
            up.append([])
            down.append([])
        chain.append(child)
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
        chains[(parent, child)] = chain
    return ProperGraph(n, row, up, down, chains, _depth_first_rows(row, up, down))


def _depth_first_rows(
    row: list[int], up: list[list[int]], down: list[list[int]]
) -> list[list[int]]:
    rows: list[list[int]] = [[] for _ in range(max(row, default=-1) + 1)]
    seen = [False] * len(row)
    sources = [v for v in range(len(row)) if not up[v]]
    for start in sources + list(range(len(row))):
        stack = [start]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            rows[row[v]].append(v)
            stack.extend(reversed(down[v]))
    return rows
