"""Crossing reduction for a layered drawing (pure Python, no Django).

Gansner et al.'s scheme as in Graphviz `dot`: sweeps alternately down and up, each row sorted by
the weighted median of its neighbours' positions in the row just fixed, then adjacent
transpositions while they remove crossings; the order with the fewest crossings seen is kept.
Nodes without neighbours on the fixed side keep their slots; ties keep the current order
(reversed on every other pair of sweeps, to get out of local minima).
"""

from __future__ import annotations

MAX_SWEEPS = 24
PATIENCE = 6  # sweeps without improvement before giving up
MAX_TRANSPOSE_PASSES = 4


def order_rows(
    rows: list[list[int]], up: list[list[int]], down: list[list[int]]
) -> list[list[int]]:
    """Rows reordered to few edge crossings; edges join adjacent rows (`up`/`down` neighbours)."""
    current = [list(r) for r in rows]
    pos = _positions(current)
    best, fewest, stale = [list(r) for r in current], crossings(current, down, pos), 0
    for sweep in range(MAX_SWEEPS):
        if fewest == 0 or stale >= PATIENCE:
            break
        downward, flip = sweep % 2 == 0, sweep % 4 >= 2
        indexes = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for i in indexes:
            current[i] = _by_median(current[i], up if downward else down, pos, flip)
            pos.update({v: k for k, v in enumerate(current[i])})
        _transpose(current, up, down, pos)
        found = crossings(current, down, pos)
        if found < fewest:
            best, fewest, stale = [list(r) for r in current], found, 0
        else:
            stale += 1
    return best


def crossings(rows: list[list[int]], down: list[list[int]], pos: dict[int, int]) -> int:
    """Edge crossings between adjacent rows, counted with a Fenwick tree (Barth et al.)."""
    total = 0
    for top, bottom in zip(rows, rows[1:], strict=False):
        ends = sorted((pos[u], pos[v]) for u in top for v in down[u])
        tree = [0] * (len(bottom) + 1)
        for seen, (_, b) in enumerate(ends):
            i, not_right = b + 1, 0
            while i > 0:
                not_right += tree[i]
                i -= i & -i
            total += seen - not_right
            i = b + 1
            while i <= len(bottom):
                tree[i] += 1
                i += i & -i
    return total


def _positions(rows: list[list[int]]) -> dict[int, int]:
    return {v: k for r in rows for k, v in enumerate(r)}


def _median(places: list[int]) -> float:
    """Weighted median of sorted positions: the side where neighbours bunch pulls harder."""
    m = len(places) // 2
    if len(places) % 2:
        return float(places[m])
    if len(places) == 2:
        return (places[0] + places[1]) / 2
    left, right = places[m - 1] - places[0], places[-1] - places[m]
    if left + right == 0:
        return (places[m - 1] + places[m]) / 2
    return (places[m - 1] * right + places[m] * left) / (left + right)


def _by_median(
    row: list[int], fixed: list[list[int]], pos: dict[int, int], flip: bool
) -> list[int]:
    value = {v: _median(sorted(pos[u] for u in fixed[v])) for v in row if fixed[v]}
    sign = -1 if flip else 1
    movable = iter(sorted(value, key=lambda v: (value[v], sign * pos[v])))
    return [next(movable) if v in value else v for v in row]


def _transpose(
    rows: list[list[int]], up: list[list[int]], down: list[list[int]], pos: dict[int, int]
) -> None:
    """Swap neighbours in a row while that removes crossings (in place); a row is looked at
    again only when it or a row next to it changed."""
    dirty = [True] * len(rows)
    for _ in range(MAX_TRANSPOSE_PASSES):
        changed = [False] * len(rows)
        for i, row in enumerate(rows):
            if not dirty[i]:
                continue
            for k in range(len(row) - 1):
                v, w = row[k], row[k + 1]
                above, below = _pair(v, w, up, pos), _pair(v, w, down, pos)
                if above[1] + below[1] < above[0] + below[0]:
                    row[k], row[k + 1] = w, v
                    pos[v], pos[w] = k + 1, k
                    changed[i] = True
        if not any(changed):
            return
        dirty = [any(changed[max(i - 1, 0) : i + 2]) for i in range(len(rows))]


def _pair(v: int, w: int, side: list[list[int]], pos: dict[int, int]) -> tuple[int, int]:
    """Crossings between the edges of v and w on one side: with v left of w, and swapped."""
    as_is = swapped = 0
    right = [pos[b] for b in side[w]]
    for a in side[v]:
        pa = pos[a]
        for pb in right:
            if pa > pb:
                as_is += 1
            elif pa < pb:
                swapped += 1
    return as_is, swapped
