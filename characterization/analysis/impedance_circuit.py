"""Equivalent circuits for analysis.impedance: the circuit string, its parameters, its model.

Circuit strings are impedance.py's (MIT). impedance.py evaluates them with eval(), so a string
is checked here against a strict grammar before anything else sees it:

    circuit := term ("-" term)*                              elements in series
    term    := ELEMENT | "p(" circuit ("," circuit)+ ")"     elements in parallel
    ELEMENT := one of ELEMENTS followed by a number (R0, CPE1, W1), each name once

Parameters are named as impedance.py names them (R0, R1, CPE1_0, CPE1_1, W1 for a one-
parameter element, Wo1_0, Wo1_1, ...), with its units. model() evaluates the circuit with
impedance.py's element functions (impedance.models.circuits.elements), series Z = ΣZ_i and
parallel Z = 1/Σ(1/Z_i) as impedance.py's s() and p() do, but without building and eval-ing
a string per call (20–40× faster; a test checks both give the same Z).

Initial guesses come from the spectrum (Features): the first R is the high-frequency
intercept, other Rs share the arc width, capacitive elements put their time constant at the
arc's apex frequency, diffusion elements start from the low-frequency tail. Bounds: every
parameter >= 0; exponents (CPE, La, Zarc) <= 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from characterization.analysis.errors import AnalysisError

# Element -> (parameter units as impedance.py gives them, index of an exponent <= 1 or None).
ELEMENTS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "R": (("Ohm",), None),
    "C": (("F",), None),
    "L": (("H",), None),
    "CPE": (("Ohm^-1 sec^a", ""), 1),
    "W": (("Ohm sec^-1/2",), None),
    "Wo": (("Ohm", "sec"), None),
    "Ws": (("Ohm", "sec"), None),
    "La": (("H sec", ""), 1),
    "G": (("Ohm", "sec"), None),
    "K": (("Ohm", "sec"), None),
    "Zarc": (("Ohm", "sec", ""), 2),
}
MAX_ELEMENTS = 12
_TOKEN = re.compile(r"p\(|[(),\-]|([A-Za-z]+)(\d+)")

# A node: ("e", label, kind) for an element, ("s", children) or ("p", children).
Node = tuple


@dataclass(frozen=True)
class Circuit:
    """A checked circuit string, its elements (label, kind), parameter names and units."""

    text: str
    tree: Node
    elements: tuple[tuple[str, str], ...]
    names: tuple[str, ...]
    units: tuple[str, ...]


@dataclass(frozen=True)
class Features:
    """What the seeds are taken from: series resistance r0 (Ω), arc width (Ω), apex and
    lowest / highest frequencies (Hz), -Im Z at the lowest frequency (Ω)."""

    r0_ohm: float
    arc_ohm: float
    apex_hz: float
    f_min_hz: float
    f_max_hz: float
    tail_minus_imag_ohm: float


def parse_circuit(text: object) -> Circuit:
    """The circuit, or AnalysisError(field "circuit") saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise AnalysisError("circuit", "give the equivalent circuit, e.g. R0-p(R1,CPE1)-W1")
    compact = text.replace(" ", "")
    if len(compact) > 200:
        raise AnalysisError("circuit", "the circuit string is too long (200 characters at most)")
    tokens, at = [], 0
    while at < len(compact):
        match = _TOKEN.match(compact, at)
        if not match:
            raise AnalysisError(
                "circuit",
                f"'{compact}' cannot be read at '{compact[at : at + 8]}'; use elements like "
                "R0, CPE1, W1 joined by '-' (series) and p(…,…) (parallel)",
            )
        tokens.append(match)
        at = match.end()
    elements: list[tuple[str, str]] = []
    tree, end = _series(tokens, 0, elements, compact)
    if end != len(tokens):
        raise AnalysisError(
            "circuit",
            f"'{compact}': join elements with '-' (series) or ',' inside p(…) (parallel), "
            "and check the brackets",
        )
    if len(elements) > MAX_ELEMENTS:
        raise AnalysisError("circuit", f"at most {MAX_ELEMENTS} elements can be fitted")
    names, units = [], []
    for label, kind in elements:
        kind_units = ELEMENTS[kind][0]
        for index, unit in enumerate(kind_units):
            names.append(label if len(kind_units) == 1 else f"{label}_{index}")
            units.append(unit)
    return Circuit(compact, tree, tuple(elements), tuple(names), tuple(units))


def _series(tokens: list, i: int, elements: list, text: str) -> tuple[Node, int]:
    node, i = _term(tokens, i, elements, text)
    children = [node]
    while i < len(tokens) and tokens[i].group(0) == "-":
        node, i = _term(tokens, i + 1, elements, text)
        children.append(node)
    return (children[0] if len(children) == 1 else ("s", children)), i


def _term(tokens: list, i: int, elements: list, text: str) -> tuple[Node, int]:
    if i >= len(tokens):
        raise AnalysisError("circuit", f"'{text}' ends where an element is expected")
    token = tokens[i]
    if token.group(0) == "p(":
        branches = []
        node, i = _series(tokens, i + 1, elements, text)
        branches.append(node)
        while i < len(tokens) and tokens[i].group(0) == ",":
            node, i = _series(tokens, i + 1, elements, text)
            branches.append(node)
        if i >= len(tokens) or tokens[i].group(0) != ")" or len(branches) < 2:
            raise AnalysisError("circuit", f"'{text}': p(…) needs two or more branches and ')'")
        return ("p", branches), i + 1
    if not token.group(1):
        raise AnalysisError("circuit", f"'{text}': '{token.group(0)}' where an element belongs")
    kind, label = token.group(1), token.group(0)
    if kind not in ELEMENTS:
        raise AnalysisError(
            "circuit", f"'{label}': unknown element '{kind}' (known: {', '.join(ELEMENTS)})"
        )
    if any(label == known for known, _ in elements):
        raise AnalysisError("circuit", f"'{label}' appears twice; number each element once")
    elements.append((label, kind))
    return ("e", label, kind), i + 1


def model(circuit: Circuit) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Z(freq_hz, parameters) of the circuit, complex, with impedance.py's elements."""
    from impedance.models.circuits.elements import circuit_elements

    counter = iter(range(len(circuit.names)))

    def build(node: Node) -> Callable:
        if node[0] == "e":
            element = circuit_elements[node[2]]
            at = [next(counter) for _ in ELEMENTS[node[2]][0]]
            return lambda p, f: element([float(p[i]) for i in at], f)
        parts = [build(child) for child in node[1]]
        if node[0] == "s":
            return lambda p, f: sum(part(p, f) for part in parts)
        return lambda p, f: 1 / sum(1 / part(p, f) for part in parts)

    evaluate = build(circuit.tree)
    return lambda f, p: np.asarray(evaluate(p, np.asarray(f, dtype=float)), dtype=complex)


def seeds(circuit: Circuit, features: Features) -> list[float]:
    """Initial guesses from the spectrum (see the module doc), all > 0."""
    f = features
    arc = max(f.arc_ohm, 1e-3 * max(f.r0_ohm, 1e-9), 1e-12)
    w_apex, w_min, w_max = (2 * math.pi * x for x in (f.apex_hz, f.f_min_hz, f.f_max_hz))
    r_labels = [label for label, kind in circuit.elements if kind == "R"]
    others = max(len(r_labels) - 1, 1)
    tail = max(f.tail_minus_imag_ohm, 0.05 * arc)
    inductance = 0.01 * max(f.r0_ohm, arc) / w_max
    guesses: list[float] = []
    for label, kind in circuit.elements:
        guesses += {
            "R": [max(f.r0_ohm, 1e-9) if label == r_labels[0] else arc / others],
            "C": [1 / (w_apex * arc)],
            "L": [inductance],
            "CPE": [1 / (arc * w_apex**0.9), 0.9],
            "W": [tail * math.sqrt(w_min)],
            "Wo": [arc, 1 / w_min],
            "Ws": [arc, 1 / w_min],
            "La": [inductance, 0.9],
            "G": [arc, 1 / w_apex],
            "K": [arc, 1 / w_apex],
            "Zarc": [arc, 1 / w_apex, 0.9],
        }[kind]
    return guesses


def bounds(circuit: Circuit) -> tuple[list[float], list[float]]:
    """Lower bound 0 for every parameter; upper bound 1 for exponents, else none."""
    upper: list[float] = []
    for _, kind in circuit.elements:
        kind_units, exponent = ELEMENTS[kind]
        upper += [1.0 if i == exponent else np.inf for i in range(len(kind_units))]
    return [0.0] * len(upper), upper
