"""A cell's impedance measurements side by side (e.g. before and after cycling).

compare_impedance([(label, ImpedanceResult), ...]) gives one row per measurement with R_s and
R_ct and their change against the first measurement (the reference):
    change_ohm = x − x_ref,  change_pct = 100·(x − x_ref)/x_ref
(None where a value is missing, and for the reference row itself). Warnings flag rows whose
numbers are not comparable: a different circuit (R_ct means another element), an unreliable
fit, a missing R_s or R_ct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from characterization.analysis.errors import AnalysisError
from characterization.analysis.impedance import VERSION, ImpedanceResult
from characterization.analysis.impedance_checks import FLAG, NOTE, warning


@dataclass(frozen=True)
class ImpedanceComparison:
    reference: str
    rows: tuple[dict, ...]
    warnings: tuple[dict, ...] = ()
    version: str = VERSION

    def as_summary(self) -> dict:
        return {"reference": self.reference, "rows": [dict(row) for row in self.rows]}


def compare_impedance(results: Sequence[tuple[str, ImpedanceResult]]) -> ImpedanceComparison:
    """R_s/R_ct per measurement and their change against the first one (module doc).
    Raises AnalysisError(field "results") for an empty list, a pair that is not (label,
    ImpedanceResult), or labels that are empty or repeated."""
    pairs = _checked(results)
    _, first = pairs[0]
    rows = []
    for index, (label, result) in enumerate(pairs):
        row = {
            "label": label,
            "r_s_ohm": result.r_s_ohm,
            "r_ct_ohm": result.r_ct_ohm,
            "circuit": result.circuit,
            "reliable": result.reliable,
        }
        for key in ("r_s", "r_ct"):
            value, ref = getattr(result, f"{key}_ohm"), getattr(first, f"{key}_ohm")
            change = None if index == 0 or value is None or ref is None else value - ref
            row[f"{key}_change_ohm"] = change
            row[f"{key}_change_pct"] = 100 * change / ref if change is not None and ref else None
        rows.append(row)
    return ImpedanceComparison(pairs[0][0], tuple(rows), tuple(_warnings(pairs)))


def _checked(results: object) -> list[tuple[str, ImpedanceResult]]:
    if not isinstance(results, (list, tuple)) or not results:
        raise AnalysisError("results", "give at least one (label, impedance result) pair")
    pairs = []
    for index, item in enumerate(results):
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 2
            or not isinstance(item[1], ImpedanceResult)
        ):
            raise AnalysisError(f"results[{index}]", "expected a (label, impedance result) pair")
        label = item[0].strip() if isinstance(item[0], str) else ""
        if not label:
            raise AnalysisError(f"results[{index}]", "each measurement needs a label")
        if any(label == known for known, _ in pairs):
            raise AnalysisError(f"results[{index}]", f"the label '{label}' is used twice")
        pairs.append((label, item[1]))
    return pairs


def _warnings(pairs: list[tuple[str, ImpedanceResult]]) -> list[dict]:
    out = []
    circuits = {result.circuit for _, result in pairs}
    if len(circuits) > 1:
        out.append(
            warning(
                "circuits_differ",
                "The measurements were fitted with different circuits "
                f"({', '.join(sorted(circuits))}): their R_ct are different elements and "
                "their change is not meaningful.",
            )
        )
    unreliable = [label for label, result in pairs if not result.reliable]
    if unreliable:
        out.append(
            warning(
                "unreliable_fit",
                f"The circuit fit of {', '.join(unreliable)} is not reliable: its R_ct and the "
                "change computed from it may be wrong.",
                FLAG,
            )
        )
    missing = [
        label for label, result in pairs if result.r_s_ohm is None or result.r_ct_ohm is None
    ]
    if missing:
        out.append(
            warning(
                "value_missing",
                f"R_s or R_ct is missing for {', '.join(missing)}; their changes are left empty.",
                NOTE,
            )
        )
    return out
