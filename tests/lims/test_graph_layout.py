"""The lineage drawing (lims.graph_layout): rows that respect every edge, few crossings, no
overlaps and every edge inside the picture. Pure: no database."""

from __future__ import annotations

import random
import re
import sys
from collections import deque
from itertools import combinations
from pathlib import Path

import pytest

from lims.graph_layout import NODE_H, NODE_W, Layout, layered_layout
from tests.test_house_style import imported_modules

Edges = list[tuple[int, int]]


def on_curve_points(path: str) -> list[tuple[float, float]]:
    """The points an SVG path of M, L and C commands actually passes through."""
    points = []
    for command, args in re.findall(r"([MLC])([^MLC]*)", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        assert command in "MLC" and len(numbers) == {"M": 2, "L": 2, "C": 6}[command]
        points.append((numbers[-2], numbers[-1]))
    return points


def all_points(path: str) -> list[tuple[float, float]]:
    """Every coordinate pair in the path, control points included (a cubic stays inside the
    hull of its control points, so these bound the curve)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def vertical_runs(path: str) -> list[tuple[float, float, float]]:
    """(x, y_from, y_to) of each straight L segment: an edge passing a row via its dummy."""
    runs, previous = [], None
    for command, args in re.findall(r"([MLC])([^MLC]*)", path):
        x, y = on_curve_points(command + args)[0]
        if command == "L":
            assert previous[0] == x, "runs through a row are vertical"
            runs.append((x, previous[1], y))
        previous = (x, y)
    return runs


def drawn_crossings(layout: Layout) -> int:
    """Edge crossings in the drawing: within each band between two rows, two curves cross when
    their ends swap sides (sharing an end is not a crossing)."""
    bands: dict[float, list[tuple[float, float]]] = {}
    for edge in layout.edges:
        commands = re.findall(r"([MLC])([^MLC]*)", edge.path)
        points = on_curve_points(edge.path)
        steps = zip(points, points[1:], strict=False)
        for (command, _), (start, end) in zip(commands[1:], steps, strict=True):
            if command == "C":
                bands.setdefault(start[1], []).append((start[0], end[0]))
    return sum(
        (a0 - b0) * (a1 - b1) < 0
        for segments in bands.values()
        for (a0, a1), (b0, b1) in combinations(segments, 2)
    )


def order_crossings(top: list[int], bottom: list[int], edges: Edges) -> int:
    """Crossings of a two-row drawing in the given orders."""
    place = {v: i for row in (top, bottom) for i, v in enumerate(row)}
    return sum(
        (place[p] - place[q]) * (place[c] - place[d]) < 0
        for (p, c), (q, d) in combinations(edges, 2)
    )


def assert_well_drawn(layout: Layout, generations: dict[int, int], edges: Edges) -> None:
    """No overlaps, everything inside, every edge from a higher row to a lower one."""
    nodes = layout.nodes
    assert set(nodes) == set(generations)
    for a, b in combinations(nodes.values(), 2):
        apart_x = a.x + NODE_W <= b.x or b.x + NODE_W <= a.x
        apart_y = a.y + NODE_H <= b.y or b.y + NODE_H <= a.y
        assert apart_x or apart_y, f"{a.key} overlaps {b.key}"
    for n in nodes.values():
        assert n.x >= 0 and n.x + NODE_W <= layout.width
        assert n.y >= 0 and n.y + NODE_H <= layout.height
    for parent, child in edges:
        assert nodes[parent].y < nodes[child].y, f"{parent} -> {child} does not point down"
    assert len(layout.edges) == len(set(edges))
    for edge in layout.edges:
        for x, y in all_points(edge.path):
            assert 0 <= x <= layout.width and 0 <= y <= layout.height, edge.path
        for x, y0, y1 in vertical_runs(edge.path):
            for n in nodes.values():
                across = n.y < y1 and y0 < n.y + NODE_H
                assert not (across and n.x <= x <= n.x + NODE_W), f"{edge.path} cuts {n.key}"
    starts = sorted(on_curve_points(e.path)[0] for e in layout.edges)
    ends = sorted(on_curve_points(e.path)[-1] for e in layout.edges)
    for parent, child in set(edges):
        p, c = nodes[parent], nodes[child]
        assert any(p.x <= x <= p.x + NODE_W and y == p.y + NODE_H for x, y in starts)
        assert any(c.x <= x <= c.x + NODE_W and y == c.y for x, y in ends)


def shortest_generations(edges: Edges, focus: int) -> dict[int, int]:
    """What lims.sample_queries.sample_lineage hands over: shortest depth, ancestors < 0."""

    def walk(step: dict[int, list[int]]) -> dict[int, int]:
        depth, queue = {focus: 0}, deque([focus])
        while queue:
            v = queue.popleft()
            for u in step.get(v, []):
                if u not in depth:
                    depth[u] = depth[v] + 1
                    queue.append(u)
        return depth

    parents: dict[int, list[int]] = {}
    children: dict[int, list[int]] = {}
    for p, c in edges:
        parents.setdefault(c, []).append(p)
        children.setdefault(p, []).append(c)
    generations = {k: -d for k, d in walk(parents).items()}
    generations.update(walk(children))
    return generations


def codes(keys) -> dict[int, str]:
    return {k: f"S-{k:04d}" for k in keys}


def center_x(layout: Layout, key: int) -> float:
    return layout.nodes[key].x + NODE_W / 2


def test_diamond_draws_without_crossings_with_the_join_centred_under_its_parents():
    a, b, c, d = 1, 2, 3, 4
    edges = [(a, b), (a, c), (b, d), (c, d)]
    generations = {a: -2, b: -1, c: -1, d: 0}
    layout = layered_layout(generations, edges, codes(generations))
    assert_well_drawn(layout, generations, edges)
    assert drawn_crossings(layout) == 0
    assert layout.nodes[b].y == layout.nodes[c].y
    middle = (center_x(layout, b) + center_x(layout, c)) / 2
    assert center_x(layout, d) == pytest.approx(middle, abs=NODE_W / 4)
    assert center_x(layout, a) == pytest.approx(middle, abs=NODE_W / 4)


@pytest.mark.parametrize("focus", ["L", "P", "Q", "R"])
def test_lot_used_for_a_precursor_and_its_coating_gets_four_rows(focus):
    """The issue's case: lot L goes into precursor P and into the coating of Q, made from P.
    By shortest depth L and P shared a row; the edge L -> P then left the picture."""
    key = {"L": 1, "P": 2, "Q": 3, "R": 4}
    edges = [(key["L"], key["P"]), (key["P"], key["Q"]), (key["L"], key["Q"]), (key["Q"], 4)]
    generations = shortest_generations(edges, key[focus])
    layout = layered_layout(generations, edges, codes(generations))
    assert_well_drawn(layout, generations, edges)
    rows = [layout.nodes[key[name]].y for name in "LPQR"]
    assert rows == sorted(set(rows)), "L, P, Q and R in four rows, top to bottom"
    skip = layout.edges[edges.index((key["L"], key["Q"]))]
    assert len(vertical_runs(skip.path)) == 1, "L -> Q passes P's row through one dummy"
    assert drawn_crossings(layout) == 0


def test_long_skip_edges_run_straight_through_the_rows_they_pass():
    chain = list(range(1, 8))  # 1 -> 2 -> ... -> 7, seven rows
    skips = [(1, 7), (2, 7), (1, 6), (9, 6), (7, 8), (9, 8)]
    edges = list(zip(chain, chain[1:], strict=False)) + skips
    generations = {k: k - 7 for k in chain} | {9: -1, 8: 1}
    layout = layered_layout(generations, edges, codes(generations))
    assert_well_drawn(layout, generations, edges)
    rows = sorted({n.y for n in layout.nodes.values()})
    assert len(rows) == 8
    for (parent, child), edge in zip(edges, layout.edges, strict=True):
        top, bottom = layout.nodes[parent].y, layout.nodes[child].y
        runs = vertical_runs(edge.path)
        assert len(runs) == len([y for y in rows if top < y < bottom])
        assert len({x for x, _, _ in runs}) <= 1, f"{parent} -> {child} bends between rows"
    assert len(vertical_runs(layout.edges[edges.index((1, 7))].path)) == 5
    assert drawn_crossings(layout) <= 1


def random_lineage(seed: int, size: int = 60) -> tuple[dict[int, int], Edges, int]:
    """A lineage as the database gives it: every node an ancestor or descendant of the focus,
    parents chosen among nearby earlier nodes, some long skip edges."""
    rng = random.Random(seed)
    focus = size // 2
    edges = set()
    for v in range(focus):  # ancestors: each feeds something later, up to the focus
        edges.add((v, rng.randint(v + 1, min(v + 4, focus))))
        if rng.random() < 0.4:
            edges.add((v, rng.randint(v + 1, size - 1)))
    for v in range(focus + 1, size):  # descendants: each made from something earlier
        edges.add((rng.randint(max(focus, v - 4), v - 1), v))
        if rng.random() < 0.3:
            edges.add((rng.randint(0, v - 1), v))
    edges = sorted(edges)
    generations = shortest_generations(edges, focus)
    assert len(generations) == size
    return generations, edges, focus


@pytest.mark.parametrize("seed", range(6))
def test_a_random_60_node_lineage_is_drawn_cleanly(seed):
    generations, edges, focus = random_lineage(seed)
    order = {k: f"S-{(k * 7919) % 1000:04d}" for k in generations}  # codes not in build order
    layout = layered_layout(generations, edges, order)
    assert_well_drawn(layout, generations, edges)
    focus_y = layout.nodes[focus].y
    assert all(layout.nodes[k].y < focus_y for k, g in generations.items() if g < 0)
    assert all(layout.nodes[k].y > focus_y for k, g in generations.items() if g > 0)


@pytest.mark.parametrize("seed", range(3))
def test_a_random_60_node_dag_is_drawn_cleanly(seed):
    rng = random.Random(100 + seed)
    edges = sorted(
        {(rng.randint(max(0, v - 12), v - 1), v) for v in range(1, 60) for _ in range(2)}
    )
    generations = dict.fromkeys(range(60), 0)
    layout = layered_layout(generations, edges, codes(generations))
    assert_well_drawn(layout, generations, edges)


def test_crossing_reduction_beats_the_order_by_code():
    """Two rows: each top node feeds two neighbouring bottom nodes (a zigzag, drawable without
    crossings); the codes shuffle the bottom row."""
    top = list(range(6))
    chain = [10 + i for i in range(7)]
    edges = [(t, b) for t in top for b in (chain[t], chain[t + 1])]
    order = {t: f"T{t}" for t in top} | {b: f"B{(5 * i) % 7}" for i, b in enumerate(chain)}
    naive = order_crossings(top, sorted(chain, key=order.get), edges)
    generations = dict.fromkeys(top, -1) | dict.fromkeys(chain, 0)
    layout = layered_layout(generations, edges, order)
    assert_well_drawn(layout, generations, edges)
    assert naive >= 10
    assert drawn_crossings(layout) < naive
    assert drawn_crossings(layout) == 0


def test_same_input_gives_the_same_drawing_whatever_the_input_order():
    generations, edges, _ = random_lineage(11)
    first = layered_layout(generations, edges, codes(generations))
    assert layered_layout(generations, edges, codes(generations)) == first
    shuffled = list(edges)
    random.Random(1).shuffle(shuffled)
    reordered = dict(sorted(generations.items(), reverse=True))
    again = layered_layout(reordered, shuffled, codes(generations))
    assert again.nodes == first.nodes and (again.width, again.height) == (first.width, first.height)
    assert sorted(e.path for e in again.edges) == sorted(e.path for e in first.edges)


def test_duplicate_self_and_foreign_edges_are_drawn_once_or_not_at_all():
    generations = {1: 0, 2: 1}
    layout = layered_layout(generations, [(1, 2), (1, 2), (2, 2), (7, 2)], codes(generations))
    assert len(layout.edges) == 1
    assert_well_drawn(layout, generations, [(1, 2)])


def test_a_cycle_slipping_past_the_database_is_drawn_without_its_closing_edge():
    generations = {1: 0, 2: 1, 3: 2}
    layout = layered_layout(generations, [(1, 2), (2, 3), (3, 1)], codes(generations))
    assert len(layout.edges) == 2
    assert_well_drawn(layout, generations, [(1, 2), (2, 3)])


@pytest.mark.parametrize(
    "module", sorted(Path(__file__).resolve().parents[2].glob("lims/graph_layout*.py"))
)
def test_layout_modules_import_nothing_but_each_other_and_the_standard_library(module):
    imports = imported_modules(module)
    outside = {m.split(".")[0] for m in imports if not m.startswith("graph_layout")}
    assert outside <= set(sys.stdlib_module_names) | {"__future__"}
