"""Horizontal positions in a layered drawing (pure Python, no Django).

Brandes and Köpf's method, as in dagre and ELK: four candidate layouts (neighbours above or
below, blocks packed from the left or the right) each align every node with a median neighbour
into vertical blocks, long edges first (an edge that would cross a run of dummies gives way), and
pack the blocks as tightly as the gaps allow; a node's x is the mean of its two middle
candidates, which centres it over its neighbours and keeps long edges straight. Last, each row
is projected onto its order and minimum gaps (pool adjacent violators), so no two nodes overlap
whatever the averaging did.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil, floor

Separation = Callable[[int, int], float]


def assign_x(
    rows: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    dummy: list[bool],
    sizes: tuple[float, float, float],
) -> list[float]:
    """Centre x of every node; `sizes` is (node width, gap between nodes, gap beside a dummy)."""
    if not dummy:
        return []
    node_w, node_gap, dummy_gap = sizes
    half = [0.0 if d else node_w / 2 for d in dummy]

    def separation(a: int, b: int) -> float:
        return half[a] + half[b] + (node_gap if not (dummy[a] or dummy[b]) else dummy_gap)

    pos = {v: k for row in rows for k, v in enumerate(row)}
    conflicts = _crossing_inner_segments(rows, up, dummy, pos)
    candidates = []
    for vertical, neighbours in ((rows, up), (rows[::-1], down)):
        for from_right in (False, True):
            ordered = [row[::-1] if from_right else row for row in vertical]
            place = {v: k for row in ordered for k, v in enumerate(row)}
            root, align = _align(ordered, neighbours, place, conflicts)
            xs = _compact(ordered, root, align, separation)
            candidates.append([-x for x in xs] if from_right else xs)
    x = _balance(candidates, half)
    for row in rows:
        _project(row, x, separation)
    return x


def _crossing_inner_segments(
    rows: list[list[int]], up: list[list[int]], dummy: list[bool], pos: dict[int, int]
) -> set[tuple[int, int]]:
    """Edges (upper, lower) that cross an edge between two dummies: they yield in alignment."""
    marked = set()
    for upper, row in zip(rows, rows[1:], strict=False):
        k0, scan = 0, 0
        for k, v in enumerate(row):
            inner = next((u for u in up[v] if dummy[u]), None) if dummy[v] else None
            if inner is None and k < len(row) - 1:
                continue
            k1 = pos[inner] if inner is not None else len(upper)
            for w in row[scan : k + 1]:
                for u in up[w]:
                    if (pos[u] < k0 or pos[u] > k1) and not (dummy[u] and dummy[w]):
                        marked.add((u, w))
            scan, k0 = k + 1, k1
    return marked


def _align(
    rows: list[list[int]], neighbours: list[list[int]], place: dict[int, int], conflicts: set
) -> tuple[dict[int, int], dict[int, int]]:
    """Vertical blocks: each node joins its (upper) median neighbour's block when free."""
    root = {v: v for row in rows for v in row}
    align = dict(root)
    for row in rows:
        previous = -1
        for v in row:
            ws = sorted(neighbours[v], key=place.__getitem__)
            middle = (len(ws) - 1) / 2
            for i in range(floor(middle), ceil(middle) + 1) if ws else ():
                w = ws[i]
                free = align[v] == v and previous < place[w]
                if free and (w, v) not in conflicts and (v, w) not in conflicts:
                    align[w], root[v] = v, root[w]
                    align[v] = root[v]
                    previous = place[w]
    return root, align


def _compact(
    rows: list[list[int]], root: dict[int, int], align: dict[int, int], separation: Separation
) -> list[float]:
    """Blocks packed left: each as far left as its left neighbours allow, then pulled right
    towards its right neighbours where it has room."""
    left: dict[int, dict[int, float]] = {r: {} for r in set(root.values())}
    right: dict[int, dict[int, float]] = {r: {} for r in left}
    for row in rows:
        for u, v in zip(row, row[1:], strict=False):
            gap = max(left[root[v]].get(root[u], 0.0), separation(u, v))
            left[root[v]][root[u]] = right[root[u]][root[v]] = gap
    order = _topological(left, right)
    xs: dict[int, float] = {}
    for r in order:
        xs[r] = max((xs[u] + gap for u, gap in left[r].items()), default=0.0)
    for r in reversed(order):
        room = min((xs[w] - gap for w, gap in right[r].items()), default=xs[r])
        xs[r] = max(xs[r], room)
    x = [0.0] * (max(root, default=-1) + 1)
    for v, r in root.items():
        x[v] = xs[r]
    return x


def _topological(left: dict[int, dict], right: dict[int, dict]) -> list[int]:
    waiting = {r: len(left[r]) for r in left}
    ready = sorted(r for r, n in waiting.items() if n == 0)
    order = []
    while ready:
        r = ready.pop()
        order.append(r)
        for w in right[r]:
            waiting[w] -= 1
            if waiting[w] == 0:
                ready.append(w)
    return order


def _balance(candidates: list[list[float]], half: list[float]) -> list[float]:
    """Shift the candidates onto the narrowest one (left packs by their left edge, right packs
    by their right edge), then take the mean of the two middle values per node."""
    lows = [min(x - h for x, h in zip(xs, half, strict=True)) for xs in candidates]
    highs = [max(x + h for x, h in zip(xs, half, strict=True)) for xs in candidates]
    narrowest = min(range(4), key=lambda i: (highs[i] - lows[i], i))
    shifted = [
        [x + (lows[narrowest] - lows[i] if i % 2 == 0 else highs[narrowest] - highs[i]) for x in xs]
        for i, xs in enumerate(candidates)
    ]
    return [(sorted(values)[1] + sorted(values)[2]) / 2 for values in zip(*shifted, strict=True)]


def _project(row: list[int], x: list[float], separation: Separation) -> None:
    """Move a row's nodes as little as possible (least squares) so that consecutive nodes are
    at least `separation` apart, keeping their order (in place)."""
    offsets = [0.0]
    for a, b in zip(row, row[1:], strict=False):
        offsets.append(offsets[-1] + separation(a, b))
    blocks: list[list[float]] = []  # [mean, count] of pooled nodes, means increasing
    for v, offset in zip(row, offsets, strict=True):
        blocks.append([x[v] - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            last = blocks[-1]
            last[0] = (last[0] * last[1] + mean * count) / (last[1] + count)
            last[1] += count
    k = 0
    for mean, count in blocks:
        for _ in range(int(count)):
            x[row[k]] = mean + offsets[k]
            k += 1
