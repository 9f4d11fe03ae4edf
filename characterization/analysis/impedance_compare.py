"""A cell's impedance measurements side by side (e.g. before and after cycling).

compare_impedance([(label, ImpedanceResult), ...]) and, from stored eis_fit summaries (dicts
with r_s_ohm, r_ct_ohm, circuit, reliable: no refit), compare_impedance_summaries([(label,
summary), ...]) give one row per measurement with R_s and R_ct and their change against the
first measurement (the reference):
    change_ohm = x − x_ref,  change_pct = 100·(x − x_ref)/x_ref
(None where a value is missing, for the reference row itself, and for a percentage against a
reference of 0). Warnings flag rows whose numbers are not comparable: a different circuit (R_ct
means another element), an unreliable fit, a missing R_s or R_ct. Both go through one path
(_compare) on the few values read of each fit (FitValues).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from characterization.analysis.errors import AnalysisError
from characterization.analysis.impedance import VERSION, ImpedanceResult
from characterization.analysis.impedance_checks import FLAG, NOTE, warning

UNKNOWN_CIRCUIT = "unknown circuit"


@dataclass(frozen=True)
class ImpedanceComparison:
    reference: str
    rows: tuple[dict, ...]
    warnings: tuple[dict, ...] = ()
    version: str = VERSION

    def as_summary(self) -> dict:
        return {"reference": self.reference, "rows": [dict(row) for row in self.rows]}


@dataclass(frozen=True)
class FitValues:
    """What the comparison reads of one fit."""

    r_s_ohm: float | None
    r_ct_ohm: float | None
    circuit: str
    reliable: bool

    @classmethod
    def of_result(cls, result: ImpedanceResult) -> FitValues:
        return cls(result.r_s_ohm, result.r_ct_ohm, result.circuit, result.reliable)

    @classmethod
    def of_summary(cls, summary: Mapping) -> FitValues:
        """A stored summary: a value that is not a finite number is missing (None), a missing
        circuit is UNKNOWN_CIRCUIT, and a fit not stated reliable (reliable: true) is not."""
        return cls(
            _ohm(summary.get("r_s_ohm")),
            _ohm(summary.get("r_ct_ohm")),
            str(summary.get("circuit") or UNKNOWN_CIRCUIT),
            summary.get("reliable") is True,
        )


def compare_impedance(results: Sequence[tuple[str, ImpedanceResult]]) -> ImpedanceComparison:
    """R_s/R_ct per measurement and their change against the first one (module doc).
    Raises AnalysisError(field "results") for an empty list, a pair that is not (label,
    ImpedanceResult), or labels that are empty or repeated."""
    return _compare(results, ImpedanceResult, FitValues.of_result, "impedance result")


def compare_impedance_summaries(
    summaries: Sequence[tuple[str, Mapping]],
) -> ImpedanceComparison:
    """As compare_impedance, from stored eis_fit summaries (FitValues.of_summary says how a
    summary is read). Raises AnalysisError(field "results") for an empty list, a pair that is
    not (label, mapping), or labels that are empty or repeated."""
    return _compare(summaries, Mapping, FitValues.of_summary, "summary")


def _compare(
    items: object, kind: type, read: Callable[..., FitValues], noun: str
) -> ImpedanceComparison:
    """The one path: each item checked as a (label, `kind`) pair, its fit `read`, compared."""
    pairs = _checked(items, kind, read, noun)
    _, first = pairs[0]
    rows = []
    for index, (label, fit) in enumerate(pairs):
        row = {
            "label": label,
            "r_s_ohm": fit.r_s_ohm,
            "r_ct_ohm": fit.r_ct_ohm,
            "circuit": fit.circuit,
            "reliable": fit.reliable,
        }
        for key in ("r_s", "r_ct"):
            value, ref = getattr(fit, f"{key}_ohm"), getattr(first, f"{key}_ohm")
            change = None if index == 0 or value is None or ref is None else value - ref
            row[f"{key}_change_ohm"] = change
            row[f"{key}_change_pct"] = 100 * change / ref if change is not None and ref else None
        rows.append(row)
    return ImpedanceComparison(pairs[0][0], tuple(rows), tuple(_warnings(pairs)))


def _checked(
    items: object, kind: type, read: Callable[..., FitValues], noun: str
) -> list[tuple[str, FitValues]]:
    if not isinstance(items, (list, tuple)) or not items:
        raise AnalysisError("results", f"give at least one (label, {noun}) pair")
    pairs: list[tuple[str, FitValues]] = []
    for index, item in enumerate(items):
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[1], kind):
            raise AnalysisError(f"results[{index}]", f"expected a (label, {noun}) pair")
        label = item[0].strip() if isinstance(item[0], str) else ""
        if not label:
            raise AnalysisError(f"results[{index}]", "each measurement needs a label")
        if any(label == known for known, _ in pairs):
            raise AnalysisError(f"results[{index}]", f"the label '{label}' is used twice")
        pairs.append((label, read(item[1])))
    return pairs


def _ohm(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _warnings(pairs: list[tuple[str, FitValues]]) -> list[dict]:
    out = []
    circuits = {fit.circuit for _, fit in pairs}
    if len(circuits) > 1:
        out.append(
            warning(
                "circuits_differ",
                "The measurements were fitted with different circuits "
                f"({', '.join(sorted(circuits))}): their R_ct are different elements and "
                "their change is not meaningful.",
            )
        )
    unreliable = [label for label, fit in pairs if not fit.reliable]
    if unreliable:
        out.append(
            warning(
                "unreliable_fit",
                f"The circuit fit of {', '.join(unreliable)} is not reliable: its R_ct and the "
                "change computed from it may be wrong."
                if len(unreliable) == 1
                else f"The circuit fits of {', '.join(unreliable)} are not reliable: their R_ct "
                "and the changes computed from them may be wrong.",
                FLAG,
            )
        )
    missing = [label for label, fit in pairs if fit.r_s_ohm is None or fit.r_ct_ohm is None]
    if missing:
        out.append(
            warning(
                "value_missing",
                f"R_s or R_ct is missing for {', '.join(missing)}; their changes are left empty.",
                NOTE,
            )
        )
    return out
