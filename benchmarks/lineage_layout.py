"""Speed and quality of the lineage drawing (lims.graph_layout) on lab-shaped and random graphs.

Usage: python benchmarks/lineage_layout.py [--repeat 15] [--seed 3]
Pure Python, no database. For each graph: nodes, edges, rows, dummy nodes, crossings of the
first (depth-first) order and of the drawn one, drawing size, and the best and median time of
the whole layered_layout call. A "lab" lineage is what a sample page gets: lots -> precursors ->
powders (+ a lot) -> coated powders (+ a lot) -> electrodes -> cells -> measurements, seen from
one sample; "random" is a DAG whose parents are any of the 12 previous nodes (many long edges).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")  # importing anything under lims reads Kiln's settings

from lims.graph_layout import layered_layout  # noqa: E402
from lims.graph_layout_layers import assign_rows, split_long_edges  # noqa: E402
from lims.graph_layout_order import crossings, order_rows  # noqa: E402

Graph = tuple[dict[int, int], list[tuple[int, int]], dict[int, str]]


def lab_world(seed: int, precursors: int) -> tuple[list[tuple[int, int]], dict[int, str]]:
    rng, edges, codes = random.Random(seed), [], {}

    def new(prefix: str) -> int:
        codes[len(codes)] = f"{prefix}-{len(codes):04d}"
        return len(codes) - 1

    lots = [new("LOT") for _ in range(6)]
    for _ in range(precursors):
        precursor = new("PRE")
        edges += [(lot, precursor) for lot in rng.sample(lots, 2)]
        for _ in range(rng.choice([1, 1, 2])):
            powder = new("POW")
            edges += [(precursor, powder), (rng.choice(lots), powder)]
            if rng.random() < 0.5:
                coated = new("COAT")
                edges += [(powder, coated), (rng.choice(lots), coated)]
                powder = coated
            for _ in range(rng.choice([1, 2])):
                electrode = new("ELE")
                edges.append((powder, electrode))
                for _ in range(rng.choice([1, 2, 3])):
                    cell = new("CELL")
                    edges.append((electrode, cell))
                    if rng.random() < 0.5:
                        edges.append((cell, new("MEAS")))
    return edges, codes


def lineage(edges: list[tuple[int, int]], codes: dict[int, str], focus: int) -> Graph:
    """The focus's ancestors and descendants at their shortest depth, as the database gives."""
    step_up: dict[int, list[int]] = {}
    step_down: dict[int, list[int]] = {}
    for p, c in edges:
        step_up.setdefault(c, []).append(p)
        step_down.setdefault(p, []).append(c)

    def walk(step: dict[int, list[int]]) -> dict[int, int]:
        depth, queue = {focus: 0}, deque([focus])
        while queue:
            v = queue.popleft()
            for u in step.get(v, []):
                if u not in depth:
                    depth[u] = depth[v] + 1
                    queue.append(u)
        return depth

    generations = {k: -d for k, d in walk(step_up).items()} | walk(step_down)
    kept = [(p, c) for p, c in edges if p in generations and c in generations]
    return generations, kept, codes


def random_dag(size: int, seed: int) -> Graph:
    rng = random.Random(seed)
    edges = sorted(
        {(rng.randint(max(0, v - 12), v - 1), v) for v in range(1, size) for _ in range(2)}
    )
    return (
        dict.fromkeys(range(size), 0),
        edges,
        {k: f"K-{(k * 7919) % 10000:04d}" for k in range(size)},
    )


def lab_cases(seed: int) -> dict[str, Graph]:
    edges, codes = lab_world(seed, precursors=60)
    cases = {}
    for label, prefix in (("a cell", "CELL"), ("a powder", "POW")):
        focus = next(k for k, code in codes.items() if code.startswith(prefix))
        cases[f"lab, {label}"] = lineage(edges, codes, focus)
    for target in (60, 120, 200):  # a precursor lot seen from a world sized to fit
        world, world_codes = lab_world(seed, precursors=target // 5)
        sizes = {f: len(lineage(world, world_codes, f)[0]) for f in range(6)}
        focus = min(sizes, key=lambda f: abs(sizes[f] - target))
        cases[f"lab, a lot ({sizes[focus]})"] = lineage(world, world_codes, focus)
    return cases


def quality(graph: Graph) -> tuple[int, int, int, int]:
    """Rows, dummies, crossings of the first order and after crossing reduction."""
    generations, edges, codes = graph
    keys = sorted(generations, key=lambda k: (codes.get(k, ""), k))
    index = {k: i for i, k in enumerate(keys)}
    pairs = sorted({(index[p], index[c]) for p, c in edges if p != c})
    rows = assign_rows(len(keys), pairs, [generations[k] < 0 for k in keys])
    proper = split_long_edges(rows, pairs)
    first = {v: i for row in proper.rows for i, v in enumerate(row)}
    ordered = order_rows(proper.rows, proper.up, proper.down)
    final = {v: i for row in ordered for i, v in enumerate(row)}
    dummies = len(proper.row) - proper.real
    return (
        len(proper.rows),
        dummies,
        crossings(proper.rows, proper.down, first),
        crossings(ordered, proper.down, final),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=3)
    opts = parser.parse_args()
    cases = {
        "diamond": ({1: -2, 2: -1, 3: -1, 4: 0}, [(1, 2), (1, 3), (2, 4), (3, 4)], {}),
        "issue 11 (L->P->Q->R, L->Q)": ({1: -1, 2: -1, 3: 0, 4: 1},
                                        [(1, 2), (2, 3), (1, 3), (3, 4)], {}),
    } | lab_cases(opts.seed) | {
        "random DAG 60": random_dag(60, opts.seed),
        "random DAG 200": random_dag(200, opts.seed),
    }  # fmt: skip
    print(f"{'graph':32} {'nodes':>5} {'edges':>5} {'rows':>4} {'dummy':>5} "
          f"{'crossings':>11} {'drawing px':>12} {'best ms':>8} {'median':>7}")  # fmt: skip
    for name, graph in cases.items():
        times = []
        for _ in range(opts.repeat):
            started = time.perf_counter()
            layout = layered_layout(*graph)
            times.append((time.perf_counter() - started) * 1e3)
        rows, dummies, before, after = quality(graph)
        size = f"{layout.width:.0f}x{layout.height:.0f}"
        print(
            f"{name:32} {len(graph[0]):5} {len(graph[1]):5} {rows:4} {dummies:5} "
            f"{before:5} -> {after:<3} {size:>12} {min(times):8.2f} {statistics.median(times):7.2f}"
        )


if __name__ == "__main__":
    main()
