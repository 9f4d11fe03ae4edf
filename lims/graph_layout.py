"""Layered (Sugiyama) drawing of a lineage graph as SVG coordinates (pure Python, no Django).

Our own code rather than a library: grandalf, the Python Sugiyama package, is GPL-2.0 or
EPL-1.0 (not for an MIT project), Graphviz would be a system binary on every lab machine and in
CI, and dagre would draw in the browser where no test sees it. The classic steps, each small:

1. Rows (graph_layout_layers): longest path from the sources, so a parent is always strictly
   above its children; the focus's ancestors are then pulled down to just above their highest
   child. A lot used for a precursor and again for its coating thus sits above both.
2. An edge spanning several rows becomes a chain of dummy nodes, one per row crossed.
3. Order within rows (graph_layout_order): median sweeps down and up plus transpositions, the
   order with the fewest crossings kept.
4. x (graph_layout_coords): edges as short as they can be, long ones straight, nodes never
   closer than the gap.
Edges are drawn through their dummies as vertical S-curves joined by vertical runs, every
point within the drawing. Same input, same drawing: ties break on `order`, then on the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph_layout_coords import assign_x
from .graph_layout_layers import ProperGraph, assign_rows, split_long_edges
from .graph_layout_order import order_rows

NODE_W, NODE_H = 168, 46
GAP_X, GAP_Y = 18, 56
DUMMY_GAP = 14  # between an edge passing a row and its neighbours there
PORT_STEP = 10  # between the ends of edges sharing one side of a node
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
    """Place nodes {key: generation} (the focus 0, its ancestors < 0) in rows; edges are
    (parent key, child key) pairs, drawn once each, top to bottom."""
    keys = sorted(generations, key=lambda k: (order.get(k, ""), k))
    index = {k: i for i, k in enumerate(keys)}
    pairs = sorted({(index[p], index[c]) for p, c in edges if p in index and c in index})
    pairs = [(p, c) for p, c in pairs if p != c]
    row = assign_rows(len(keys), pairs, [generations[k] < 0 for k in keys])
    graph = split_long_edges(row, [(p, c) for p, c in pairs if row[p] < row[c]])
    rows = order_rows(graph.rows, graph.up, graph.down)
    dummy = [v >= graph.real for v in range(len(graph.row))]
    cx = assign_x(rows, graph.up, graph.down, dummy, (NODE_W, GAP_X, DUMMY_GAP))
    half = [0.0 if d else NODE_W / 2 for d in dummy]
    shift = MARGIN - min((c - h for c, h in zip(cx, half, strict=True)), default=0.0)
    cx = [round(c + shift, 1) for c in cx]
    width = max((c + h for c, h in zip(cx, half, strict=True)), default=float(MARGIN)) + MARGIN
    nodes = {
        keys[v]: PlacedNode(
            keys[v], round(cx[v] - NODE_W / 2, 1), _top(graph.row[v]), generations[keys[v]]
        )
        for r in rows
        for v in r
        if not dummy[v]
    }
    drawn = dict.fromkeys((index[p], index[c]) for p, c in edges if p in index and c in index)
    paths = [_path(graph.chains[e], graph, cx) for e in drawn if e in graph.chains]
    height = 2 * MARGIN + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    return Layout(nodes, paths, width, height)


def _top(row: int) -> float:
    return MARGIN + row * (NODE_H + GAP_Y)


def _port(node: int, toward: int, side: list[list[int]], cx: list[float]) -> float:
    """x where an edge leaves or enters `node`: ends spread along its side in the order of the
    next points, so edges sharing a node neither overlap nor cross at it."""
    others = sorted(side[node], key=lambda u: (cx[u], u))
    if len(others) < 2:
        return cx[node]
    step = min(PORT_STEP, (NODE_W - 2 * PORT_STEP) / (len(others) - 1))
    return cx[node] + (others.index(toward) - (len(others) - 1) / 2) * step


def _path(chain: list[int], graph: ProperGraph, cx: list[float]) -> PlacedEdge:
    """SVG path from the parent's bottom through each dummy's row to the child's top."""
    first, last = chain[0], chain[-1]
    points = [(_port(first, chain[1], graph.down, cx), _top(graph.row[first]) + NODE_H)]
    for dummy in chain[1:-1]:
        points += [
            (cx[dummy], _top(graph.row[dummy])),
            (cx[dummy], _top(graph.row[dummy]) + NODE_H),
        ]
    points.append((_port(last, chain[-2], graph.up, cx), _top(graph.row[last])))
    (x, y), parts = points[0], [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for i, (x2, y2) in enumerate(points[1:]):
        if i % 2:  # straight down through a dummy's row
            parts.append(f"L{x2:.1f},{y2:.1f}")
        else:
            mid = (y + y2) / 2
            parts.append(f"C{x:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}")
        x, y = x2, y2
    return PlacedEdge(" ".join(parts))
