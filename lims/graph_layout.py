"""Layered drawing of a lineage graph as SVG coordinates (pure Python, no Django).

Nodes sit in rows by generation (ancestors above the focus sample, descendants below), ordered
within a row by their key; each edge becomes a vertical cubic curve from parent to child.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

NODE_W, NODE_H = 168, 46
GAP_X, GAP_Y = 18, 56
MARGIN = 10


@dataclass(frozen=True)
class PlacedNode:
    key: int
    x: float
    y: float
    generation: int


@dataclass(frozen=True)
class PlacedEdge:
    path: str  # SVG path data


@dataclass(frozen=True)
class Layout:
    nodes: dict[int, PlacedNode]
    edges: list[PlacedEdge]
    width: float
    height: float


def layered_layout(
    generations: dict[int, int], edges: list[tuple[int, int]], order: dict[int, str]
) -> Layout:
    """Place nodes {key: generation} in rows; edges are (parent key, child key) pairs."""
    rows: dict[int, list[int]] = defaultdict(list)
    for key, generation in generations.items():
        rows[generation].append(key)
    widest = max((len(keys) for keys in rows.values()), default=1)
    width = 2 * MARGIN + widest * NODE_W + (widest - 1) * GAP_X
    placed: dict[int, PlacedNode] = {}
    for row_index, generation in enumerate(sorted(rows)):
        keys = sorted(rows[generation], key=lambda k: order.get(k, ""))
        row_width = len(keys) * NODE_W + (len(keys) - 1) * GAP_X
        x0 = (width - row_width) / 2
        y = MARGIN + row_index * (NODE_H + GAP_Y)
        for i, key in enumerate(keys):
            placed[key] = PlacedNode(key, x0 + i * (NODE_W + GAP_X), y, generation)
    height = 2 * MARGIN + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    paths = [_curve(placed[p], placed[c]) for p, c in edges if p in placed and c in placed]
    return Layout(placed, paths, width, height)


def _curve(parent: PlacedNode, child: PlacedNode) -> PlacedEdge:
    x1, y1 = parent.x + NODE_W / 2, parent.y + NODE_H
    x2, y2 = child.x + NODE_W / 2, child.y
    bend = max((y2 - y1) / 2, GAP_Y / 2)
    return PlacedEdge(
        f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
    )
