"""The study comparison (DOMAIN.md section 3): groups of samples side by side, one row per
metric, each cell "mean ± sd (n)" over the group's measured samples, with the results behind it.

Pure Python (no Django): characterization.study_queries hands in, per group, its measured
samples (Subject: a cell, an electrode or a powder, with its measurements and the stored
results of the study's analyses and refinements) and gets a StudyTable back.

Groups (`parse_group`, `members_by_group`)
  A group is a name and its root samples: sample codes (`Pristine:CAT-2026-0001,CAT-2026-0002`)
  or the products of the completed batches matching every term of a selector
  (`LSO:recipe=5`, `NSO:coating=Na2SiO3;calcination_temperature_c=750`; see TERMS). Its members
  are the roots and everything made from them, down the lineage edges except substrate edges:
  the product of a coating on a sample is another material (its own group). A sample reached
  from several groups counts for the nearest root (fewest edges), for each of them on a tie.

Which result gives a sample's value: one value per measured sample and metric
  * "the latest result of a kind": on the sample's newest measurement (measured_at, then id)
    having one, its newest result (finished_at, then job id). Only succeeded, non-void results
    are handed in.
  * first cycle (charge, discharge, efficiency): the first_cycle result of the sample's EARLIEST
    measurement having one - the formation (0.05C activation) comes first.
  * rate capability: the latest rate_capability result; the capacity at rate r is the mean
    discharge capacity of the first step at r (rows: every snapped rate found; a step whose raw
    rate matched no protocol rate makes no row); recovery = recovery.fraction (as %).
  * long cycling: the voltage_fade result whose window spans the most cycles (ties: the latest
    measurement): fade_mv_per_cycle (endpoints) and fitted_fade_mv_per_cycle; retention =
    Q_dis(last_cycle) / Q_dis(first_cycle) of that window, both complete cycles of the latest
    cycling_summary of the same measurement (as %).
  * D_Li by direction (charge, discharge): the latest pitt_diffusion result, its steps of that
    direction with a positive D; per sample the median D. The row shows mean ± sd of
    log10(median D / cm² s⁻¹) over the samples, and the lowest and highest D of all their steps.
  * R_ct before cycling: the eis_fit result of the sample's earliest EIS measurement (with a
    result) measured before its first cycling or rate-test measurement; after cycling: of its
    latest EIS measurement measured after that one. No cycling measurement: neither.
  * O2, CO2: the latest gas_evolution result, gases.<gas>.micromol_per_mg.
  * DSC: the latest dsc_peaks result; the main exotherm is its exo peak with the largest J/g:
    its peak temperature and enthalpy.
  * a, c from reflections: the latest xrd_reflections result of an ex situ XRD measurement.
  * Rietveld a, c, S(MO2), I(LiO2), TM–O: the sample's latest refinement (newest measurement,
    then newest entered), an R-3m phase preferred when other phases were entered too.
  Every measured sample of the group counts: cells for the electrochemistry, powders (or their
  electrodes) for XRD, refinements and DSC.

Flags
  A result is flagged when a warning has severity "flag" (no severity: plausibility.SEVERITY
  of its code; an unknown code flags), an EIS fit says reliable: false, or a refinement carries
  a warning (each of those is a red flag: origin setting, mistyped volume). A sample whose
  chosen result is flagged is left out of the metrics that result feeds - never replaced by an
  older result - and the result is listed with its reasons and those metrics.

Aggregation
  mean, sample standard deviation (n − 1; none for n = 1), n = samples with a value.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from characterization.analysis.plausibility import SEVERITY

VERSION = "1"

JOB, REFINED = "job", "refinement"  # where a result comes from
REFINEMENT_KIND = "refinement"
RESULT_KINDS = (
    "first_cycle",
    "cycling_summary",
    "rate_capability",
    "voltage_fade",
    "pitt_diffusion",
    "eis_fit",
    "gas_evolution",
    "dsc_peaks",
    "xrd_reflections",
)
CYCLING_TYPES = ("cycling", "rate_test")
EIS_TYPES = ("eis",)
XRD_TYPES = ("xrd",)
RATE_MATCH = 1e-6  # relative: two snapped rates are the same protocol rate

# --- groups as typed ---------------------------------------------------------------------------

MAX_GROUPS = 12
MAX_CODES = 100  # root samples named in one group
NAME_MAX = 60
# A letter or digit first: a name never starts a spreadsheet formula (= + - @) in an export.
_NAME = re.compile(r"[^\W_][\w .,()%+@/-]*")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}(@[0-9]{1,6})?")
_FORMULA = re.compile(r"[A-Za-z0-9().·*]{1,120}")
_USERNAME = re.compile(r"[\w.@+-]{1,150}")
TERMS: dict[str, str] = {
    "recipe": "a recipe id (up to 9 digits), or a recipe family (every version) or family@version",
    "coating": "a coating formula: batches of coating recipes with that formula",
    "coating_wt_percent": "the batch's coating wt%",
    "calcination_temperature_c": "the batch's calcination temperature (°C)",
    "batch": "a batch code",
    "operator": "the batch operator's username",
}
NUMERIC_TERMS = ("coating_wt_percent", "calcination_temperature_c")
SYNTAX = (
    "Name:selector. The selector is sample codes (comma-separated: the group is these samples "
    "and what was made from them), or terms joined by ';' that completed batches must all "
    "match (the group is their products and what was made from them): "
    + "; ".join(f"{name}=… ({text})" for name, text in TERMS.items())
    + ". E.g. Pristine:CAT-2026-0001, LSO:recipe=5, NSO:coating=Na2SiO3."
)


class StudyInputError(ValueError):
    """Groups Kiln cannot read or resolve; `messages` has one sentence per problem."""

    def __init__(self, messages: Sequence[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class GroupSpec:
    """A parsed group: its name and either root sample codes or batch terms."""

    name: str
    codes: tuple[str, ...] = ()
    terms: tuple[tuple[str, str], ...] = ()

    @property
    def selector(self) -> str:
        if self.codes:
            return ",".join(self.codes)
        return ";".join(f"{name}={value}" for name, value in self.terms)

    @property
    def text(self) -> str:
        """The canonical spelling, as the page's URL carries it."""
        return f"{self.name}:{self.selector}"


def parse_group(text: str) -> GroupSpec:
    """`Name:selector` (see SYNTAX); StudyInputError with a sentence naming the problem."""
    name, colon, selector = str(text).partition(":")
    name, selector = name.strip(), selector.strip()
    if not colon or not name or not selector:
        raise StudyInputError(
            [
                f"{text!r}: write a group as Name:selector, e.g. Pristine:CAT-2026-0001, "
                "LSO:recipe=5 or NSO:coating=Na2SiO3"
            ]
        )
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise StudyInputError(
            [
                f"{name!r}: a group name has at most {NAME_MAX} letters, digits, spaces or "
                ". , ( ) % + @ / - _ and starts with a letter or a digit"
            ]
        )
    if "=" in selector or ":" in selector:
        return GroupSpec(name, terms=_terms(name, selector))
    return GroupSpec(name, codes=_codes(name, selector))


def _codes(name: str, selector: str) -> tuple[str, ...]:
    codes = [c for c in re.split(r"[\s,]+", selector) if c]
    bad = [c for c in codes if not _CODE.fullmatch(c)]
    if bad:
        raise StudyInputError([f"{name}: {', '.join(map(repr, bad))} is not a sample code"])
    if len(codes) > MAX_CODES:
        raise StudyInputError([f"{name}: at most {MAX_CODES} sample codes, got {len(codes)}"])
    return tuple(dict.fromkeys(c.upper() for c in codes))


def _terms(name: str, selector: str) -> tuple[tuple[str, str], ...]:
    terms: dict[str, str] = {}
    for part in (p.strip() for p in selector.split(";")):
        if not part:
            continue
        key, sep, value = part.partition("=") if "=" in part else part.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key not in TERMS:
            known = ", ".join(TERMS)
            raise StudyInputError([f"{name}: unknown selector {key!r}; one of {known}"])
        if key in terms:
            raise StudyInputError([f"{name}: {key} is given twice"])
        terms[key] = _term_value(name, key, value)
    return tuple(terms.items())


def _term_value(name: str, key: str, value: str) -> str:
    if key in NUMERIC_TERMS:
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise StudyInputError([f"{name}: {key} must be a number, got {value!r}"])
        return f"{number:g}"
    pattern = {"recipe": _FAMILY, "coating": _FORMULA, "batch": _CODE, "operator": _USERNAME}
    if not pattern[key].fullmatch(value):
        raise StudyInputError([f"{name}: {value!r} is not a valid {key} ({TERMS[key]})"])
    return value


def parse_groups(texts: Iterable[str]) -> list[GroupSpec]:
    """Every group of the request; all problems at once (StudyInputError)."""
    specs, problems = [], []
    for text in (t for t in texts if str(t).strip()):
        try:
            specs.append(parse_group(text))
        except StudyInputError as exc:
            problems += exc.messages
    seen: set[str] = set()
    for spec in specs:
        name = spec.name.casefold()
        if name in seen:
            problems.append(f"{spec.name}: two groups have this name")
        seen.add(name)
    if len(specs) > MAX_GROUPS:
        problems.append(f"at most {MAX_GROUPS} groups, got {len(specs)}")
    if problems:
        raise StudyInputError(problems)
    return specs


def members_by_group(
    roots: Sequence[Iterable[int]], edges: Iterable[tuple[int, int]]
) -> list[set[int]]:
    """Per group, the sample ids it holds: its roots and everything below them along `edges`
    (parent, child) - the caller leaves substrate edges out. A sample reached from several
    groups belongs to the nearest root's (fewest edges), to each of them on a tie (the same
    root in two groups counts in both)."""
    children: dict[int, list[int]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    best: dict[int, tuple[int, list[int]]] = {}  # sample -> (depth, group indexes)
    for index, group_roots in enumerate(roots):
        for sample, d in _depths(group_roots, children).items():
            if sample not in best or d < best[sample][0]:
                best[sample] = (d, [index])
            elif d == best[sample][0]:
                best[sample][1].append(index)
    grouped: list[set[int]] = [set() for _ in roots]
    for sample, (_, indexes) in best.items():
        for index in indexes:
            grouped[index].add(sample)
    return grouped


def _depths(roots: Iterable[int], children: Mapping[int, list[int]]) -> dict[int, int]:
    """{sample: fewest edges down from any of `roots`} (breadth first)."""
    depth = {root: 0 for root in roots}
    frontier = list(depth)
    while frontier:
        following = []
        for sample in frontier:
            for child in children.get(sample, ()):
                if child not in depth:
                    depth[child] = depth[sample] + 1
                    following.append(child)
        frontier = following
    return depth


# --- what the queries hand in ------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One measurement of a subject."""

    id: int
    code: str
    type: str  # MeasurementType value
    measured_at: datetime


@dataclass(frozen=True)
class Result:
    """A stored result of one measurement: an analysis job's result (source JOB, id = the job's
    pk, its page /jobs/<id>/) or an entered refinement (source REFINED, id = its pk; summary
    {phase, a_angstrom, c_angstrom, slab_thickness_angstrom, interslab_spacing_angstrom,
    tm_o_bond_angstrom}; warnings: the refinement's sentences)."""

    source: str
    id: int
    kind: str
    measurement_id: int
    measurement_code: str
    finished_at: datetime | None
    summary: Mapping = field(default_factory=dict)
    warnings: Sequence = ()

    @property
    def key(self) -> tuple[str, int]:
        return (self.source, self.id)


@dataclass(frozen=True)
class Subject:
    """A measured sample of a group with its measurements and their results."""

    code: str
    kind: str  # SampleKind value
    measurements: tuple[Measured, ...] = ()
    results: tuple[Result, ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    selector: str
    roots: tuple[str, ...]  # root sample codes
    subjects: tuple[Subject, ...]
    members: Mapping[str, int] = field(default_factory=dict)  # sample kind -> how many


# --- choosing the results behind a sample's value ----------------------------------------------


def _measurements(subject: Subject) -> dict[int, Measured]:
    return {m.id: m for m in subject.measurements}


def _when(m: Measured) -> tuple:
    return (m.measured_at, m.id)


def _newest_key(measured: dict[int, Measured]) -> Callable[[Result], tuple]:
    def key(r: Result) -> tuple:
        finished = r.finished_at.timestamp() if r.finished_at else -math.inf
        return (*_when(measured[r.measurement_id]), finished, r.id)

    return key


def _of_kind(subject: Subject, kind: str, types: Sequence[str] | None = None) -> list[Result]:
    measured = _measurements(subject)
    return [
        r
        for r in subject.results
        if r.kind == kind
        and r.measurement_id in measured
        and (types is None or measured[r.measurement_id].type in types)
    ]


def latest_per_measurement(subject: Subject, kind: str) -> dict[int, Result]:
    """{measurement id: its newest result of `kind`}."""
    key = _newest_key(_measurements(subject))
    newest: dict[int, Result] = {}
    for r in _of_kind(subject, kind):
        if r.measurement_id not in newest or key(r) > key(newest[r.measurement_id]):
            newest[r.measurement_id] = r
    return newest


def pick_latest(kind: str, types: Sequence[str] | None = None) -> Callable:
    def pick(subject: Subject) -> tuple[Result, ...]:
        found = _of_kind(subject, kind, types)
        return (max(found, key=_newest_key(_measurements(subject))),) if found else ()

    return pick


def pick_formation(subject: Subject) -> tuple[Result, ...]:
    measured = _measurements(subject)
    newest = latest_per_measurement(subject, "first_cycle")
    if not newest:
        return ()
    first = min(newest, key=lambda mid: _when(measured[mid]))
    return (newest[first],)


def _span(r: Result) -> float:
    first, last = _number(r.summary.get("first_cycle")), _number(r.summary.get("last_cycle"))
    return -1.0 if first is None or last is None else last - first


def pick_long_cycling(subject: Subject, *, with_summary: bool = False) -> tuple[Result, ...]:
    measured = _measurements(subject)
    fades = latest_per_measurement(subject, "voltage_fade")
    if not fades:
        return ()
    fade = max(fades.values(), key=lambda r: (_span(r), *_when(measured[r.measurement_id])))
    if not with_summary:
        return (fade,)
    summary = latest_per_measurement(subject, "cycling_summary").get(fade.measurement_id)
    return (fade,) if summary is None else (fade, summary)


def pick_long_cycling_with_summary(subject: Subject) -> tuple[Result, ...]:
    return pick_long_cycling(subject, with_summary=True)


def _first_cycling(subject: Subject) -> Measured | None:
    cycling = [m for m in subject.measurements if m.type in CYCLING_TYPES]
    return min(cycling, key=_when) if cycling else None


def pick_eis(*, before: bool) -> Callable:
    def pick(subject: Subject) -> tuple[Result, ...]:
        start = _first_cycling(subject)
        if start is None:
            return ()
        measured = _measurements(subject)
        fits = latest_per_measurement(subject, "eis_fit")
        chosen = [
            measured[mid]
            for mid in fits
            if measured[mid].type in EIS_TYPES
            and (
                measured[mid].measured_at < start.measured_at
                if before
                else measured[mid].measured_at > start.measured_at
            )
        ]
        if not chosen:
            return ()
        target = min(chosen, key=_when) if before else max(chosen, key=_when)
        return (fits[target.id],)

    return pick


def pick_refinement(subject: Subject) -> tuple[Result, ...]:
    rows = _of_kind(subject, REFINEMENT_KIND)
    preferred = [r for r in rows if "r-3m" in str(r.summary.get("phase", "")).lower()] or rows
    return (max(preferred, key=_newest_key(_measurements(subject))),) if preferred else ()


# --- taking the number -------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    number: float
    spread: tuple[float, ...] = ()  # the single values a range row spans (D of each step)


def _number(value: object) -> float | None:
    """A finite real number, else None (text, booleans, NaN are no numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _path(summary: Mapping, path: Sequence[str]) -> object:
    for key in path:
        if not isinstance(summary, Mapping):
            return None
        summary = summary.get(key)
    return summary


def from_summary(*path: str, scale: float = 1.0) -> Callable:
    def value(results: Sequence[Result]) -> Value | None:
        number = _number(_path(results[0].summary, path))
        return None if number is None else Value(number * scale)

    return value


def retention(results: Sequence[Result]) -> Value | None:
    if len(results) < 2:
        return None
    fade, summary = results
    first, last = _number(fade.summary.get("first_cycle")), _number(fade.summary.get("last_cycle"))
    by_cycle = {
        row.get("cycle"): row
        for row in summary.summary.get("cycles") or []
        if isinstance(row, Mapping) and row.get("complete")
    }
    start, end = by_cycle.get(first), by_cycle.get(last)
    if first is None or last is None or start is None or end is None:
        return None
    q_start = _number(start.get("discharge_capacity_mah_g"))
    q_end = _number(end.get("discharge_capacity_mah_g"))
    if q_start is None or q_end is None or q_start <= 0:
        return None
    return Value(100.0 * q_end / q_start)


def rate_capacity(rate_c: float) -> Callable:
    def value(results: Sequence[Result]) -> Value | None:
        for step in _snapped_steps(results[0]):
            if abs(step[0] - rate_c) <= RATE_MATCH * rate_c:
                return Value(step[1])
        return None

    return value


def _snapped_steps(result: Result) -> list[tuple[float, float]]:
    """(rate_c, mean discharge capacity) of the steps in order, snapped rates only."""
    steps = []
    for step in result.summary.get("steps") or []:
        if not isinstance(step, Mapping) or step.get("rate_snapped") is False:
            continue
        rate = _number(step.get("rate_c"))
        capacity = _number(step.get("mean_discharge_capacity_mah_g"))
        if rate is not None and rate > 0 and capacity is not None:
            steps.append((rate, capacity))
    return steps


def diffusion(direction: str) -> Callable:
    def value(results: Sequence[Result]) -> Value | None:
        found = [
            d
            for step in results[0].summary.get("steps") or []
            if isinstance(step, Mapping) and step.get("direction") == direction
            for d in [_number(step.get("d_cm2_per_s"))]
            if d is not None and d > 0
        ]
        if not found:
            return None
        return Value(math.log10(statistics.median(found)), tuple(found))

    return value


def main_exotherm(field_name: str) -> Callable:
    def value(results: Sequence[Result]) -> Value | None:
        exo = [
            p
            for p in results[0].summary.get("peaks") or []
            if isinstance(p, Mapping)
            and p.get("kind") == "exo"
            and _number(p.get("enthalpy_j_per_g")) is not None
        ]
        if not exo:
            return None
        number = _number(max(exo, key=lambda p: p["enthalpy_j_per_g"]).get(field_name))
        return None if number is None else Value(number)

    return value


# --- the metrics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One row: which results a sample's value comes from (`pick`) and how it is taken
    (`value`); `digits` decimals on the page; `log_range` rows also show min and max."""

    key: str
    section: str
    label: str
    unit: str
    digits: int
    pick: Callable[[Subject], tuple[Result, ...]]
    value: Callable[[Sequence[Result]], Value | None]
    log_range: bool = False
    range_unit: str = ""  # the unit of a range row's lowest and highest value


FORMATION, RATE, LONG = "Formation (first cycle)", "Rate capability", "Long cycling"
KINETICS, GAS, THERMAL = "Kinetics", "Gas evolution (DEMS)", "Thermal stability (DSC)"
STRUCTURE = "Structure"
_xrd = pick_latest("xrd_reflections", XRD_TYPES)
_dsc = pick_latest("dsc_peaks")
_gas = pick_latest("gas_evolution")
_pitt = pick_latest("pitt_diffusion")

HEAD_METRICS = (
    Metric("first_charge_mah_g", FORMATION, "First charge capacity", "mAh/g", 1,
           pick_formation, from_summary("charge_capacity_mah_g")),
    Metric("first_discharge_mah_g", FORMATION, "First discharge capacity", "mAh/g", 1,
           pick_formation, from_summary("discharge_capacity_mah_g")),
    Metric("first_cycle_efficiency_percent", FORMATION, "First-cycle efficiency", "%", 1,
           pick_formation, from_summary("first_cycle_efficiency", scale=100.0)),
)  # fmt: skip
RECOVERY = Metric(
    "rate_recovery_percent", RATE, "Recovery on return to the starting rate", "%", 1,
    pick_latest("rate_capability"), from_summary("recovery", "fraction", scale=100.0),
)  # fmt: skip
TAIL_METRICS = (
    Metric("retention_percent", LONG, "Capacity retention over the window", "%", 1,
           pick_long_cycling_with_summary, retention),
    Metric("fade_mv_per_cycle", LONG, "Voltage fade (endpoints)", "mV/cycle", 3,
           pick_long_cycling, from_summary("fade_mv_per_cycle")),
    Metric("fitted_fade_mv_per_cycle", LONG, "Voltage fade (fitted slope)", "mV/cycle", 3,
           pick_long_cycling, from_summary("fitted_fade_mv_per_cycle")),
    Metric("d_li_charge", KINETICS, "D_Li on charge", "log10(cm²/s)", 2,
           _pitt, diffusion("charge"), log_range=True, range_unit="cm²/s"),
    Metric("d_li_discharge", KINETICS, "D_Li on discharge", "log10(cm²/s)", 2,
           _pitt, diffusion("discharge"), log_range=True, range_unit="cm²/s"),
    Metric("r_ct_before_ohm", KINETICS, "R_ct before cycling", "Ω", 1,
           pick_eis(before=True), from_summary("r_ct_ohm")),
    Metric("r_ct_after_ohm", KINETICS, "R_ct after cycling", "Ω", 1,
           pick_eis(before=False), from_summary("r_ct_ohm")),
    Metric("o2_micromol_per_mg", GAS, "O2 evolved", "µmol/mg", 3,
           _gas, from_summary("gases", "O2", "micromol_per_mg")),
    Metric("co2_micromol_per_mg", GAS, "CO2 evolved", "µmol/mg", 3,
           _gas, from_summary("gases", "CO2", "micromol_per_mg")),
    Metric("dsc_peak_temperature_c", THERMAL, "Main exotherm: peak temperature", "°C", 1,
           _dsc, main_exotherm("peak_temperature_c")),
    Metric("dsc_enthalpy_j_per_g", THERMAL, "Main exotherm: heat released", "J/g", 1,
           _dsc, main_exotherm("enthalpy_j_per_g")),
    Metric("xrd_a_angstrom", STRUCTURE, "a (XRD reflections)", "Å", 4,
           _xrd, from_summary("lattice", "a_angstrom")),
    Metric("xrd_c_angstrom", STRUCTURE, "c (XRD reflections)", "Å", 4,
           _xrd, from_summary("lattice", "c_angstrom")),
    Metric("rietveld_a_angstrom", STRUCTURE, "a (Rietveld)", "Å", 4,
           pick_refinement, from_summary("a_angstrom")),
    Metric("rietveld_c_angstrom", STRUCTURE, "c (Rietveld)", "Å", 4,
           pick_refinement, from_summary("c_angstrom")),
    Metric("slab_angstrom", STRUCTURE, "TM slab S(MO2)", "Å", 4,
           pick_refinement, from_summary("slab_thickness_angstrom")),
    Metric("interslab_angstrom", STRUCTURE, "Li interslab I(LiO2)", "Å", 4,
           pick_refinement, from_summary("interslab_spacing_angstrom")),
    Metric("tm_o_angstrom", STRUCTURE, "TM–O bond", "Å", 4,
           pick_refinement, from_summary("tm_o_bond_angstrom")),
)  # fmt: skip


def rate_metric(rate_c: float) -> Metric:
    return Metric(
        f"rate_{rate_c:g}c_mah_g", RATE, f"Discharge capacity at {rate_c:g}C", "mAh/g", 1,
        pick_latest("rate_capability"), rate_capacity(rate_c),
    )  # fmt: skip


def study_metrics(groups: Sequence[Group]) -> list[Metric]:
    """The rows: formation, one per C-rate found in the groups' rate tests, recovery, long
    cycling, kinetics, gas, DSC and structure."""
    rates: list[float] = []
    pick = pick_latest("rate_capability")
    for subject in (s for g in groups for s in g.subjects):
        for result in pick(subject):
            for rate, _ in _snapped_steps(result):
                if all(abs(rate - r) > RATE_MATCH * r for r in rates):
                    rates.append(rate)
    return [*HEAD_METRICS, *(rate_metric(r) for r in sorted(rates)), RECOVERY, *TAIL_METRICS]


# --- flags -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


def flag_reasons(result: Result) -> tuple[Reason, ...]:
    """Why the result's numbers may be wrong (empty: not flagged); see the module doc."""
    reasons = []
    for warning in result.warnings or ():
        if not isinstance(warning, Mapping):  # a refinement's warning sentence
            reasons.append(Reason("refinement_check", str(warning)))
            continue
        code = str(warning.get("code", ""))
        if (warning.get("severity") or SEVERITY.get(code, "flag")) == "flag":
            reasons.append(Reason(code, str(warning.get("message", ""))))
    unreliable = result.kind == "eis_fit" and result.summary.get("reliable") is False
    if unreliable and not any(r.code == "fit_unreliable" for r in reasons):
        why = result.summary.get("unreliable_reason") or "the fit is not reliable"
        reasons.append(Reason("fit_unreliable", str(why)))
    return tuple(reasons)


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One sample's value in a table cell and the results it was taken from."""

    subject: str
    value: float
    results: tuple[Result, ...]
    spread: tuple[float, ...] = ()


@dataclass(frozen=True)
class CellStat:
    entries: tuple[Entry, ...]
    mean: float | None
    sd: float | None
    low: float | None = None  # range rows: the lowest and highest single value
    high: float | None = None

    @property
    def n(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class Row:
    metric: Metric
    cells: tuple[CellStat, ...]  # in the order of the groups


@dataclass(frozen=True)
class LeftOut:
    """A flagged result and the metrics of one sample it was left out of."""

    group: str
    subject: str
    result: Result
    reasons: tuple[Reason, ...]
    metrics: tuple[str, ...]  # labels


@dataclass(frozen=True)
class StudyTable:
    groups: tuple[Group, ...]
    rows: tuple[Row, ...]
    left_out: tuple[LeftOut, ...]
    version: str = VERSION


def summarise(entries: Sequence[Entry]) -> CellStat:
    """mean, sample sd (n − 1; None for n < 2), and the range of the entries' spreads."""
    values = [e.value for e in entries]
    spread = [x for e in entries for x in e.spread]
    return CellStat(
        entries=tuple(entries),
        mean=statistics.fmean(values) if values else None,
        sd=statistics.stdev(values) if len(values) > 1 else None,
        low=min(spread) if spread else None,
        high=max(spread) if spread else None,
    )


def study_table(groups: Sequence[Group], metrics: Sequence[Metric] | None = None) -> StudyTable:
    """Every metric × group cell, and the flagged results left out of them."""
    metrics = study_metrics(groups) if metrics is None else list(metrics)
    left: dict[tuple, tuple[Result, tuple[Reason, ...], list[str]]] = {}
    rows = []
    for metric in metrics:
        cells = []
        for group in groups:
            entries = []
            for subject in group.subjects:
                entry = _entry(metric, subject, group.name, left)
                if entry is not None:
                    entries.append(entry)
            cells.append(summarise(entries))
        rows.append(Row(metric, tuple(cells)))
    left_out = tuple(
        LeftOut(group, subject, result, reasons, tuple(labels))
        for (group, subject, _), (result, reasons, labels) in left.items()
    )
    return StudyTable(tuple(groups), tuple(rows), left_out)


def _entry(metric: Metric, subject: Subject, group: str, left: dict) -> Entry | None:
    picked = metric.pick(subject)
    if not picked:
        return None
    flagged = [(r, flag_reasons(r)) for r in picked]
    flagged = [(r, reasons) for r, reasons in flagged if reasons]
    for result, reasons in flagged:
        left.setdefault((group, subject.code, result.key), (result, reasons, []))[2].append(
            metric.label
        )
    if flagged:
        return None
    value = metric.value(picked)
    if value is None:
        return None
    return Entry(subject.code, value.number, picked, value.spread)


# --- text --------------------------------------------------------------------------------------


def cell_text(cell: CellStat, digits: int) -> str:
    """ "250.1 ± 2.3 (3)"; "250.1 (1)" for one sample; "–" for none."""
    if cell.mean is None:
        return "–"
    text = f"{cell.mean:.{digits}f}"
    if cell.sd is not None:
        text += f" ± {cell.sd:.{digits}f}"
    return f"{text} ({cell.n})"


def range_text(cell: CellStat) -> str:
    """ "1.20e-12 – 4.50e-11" (a range row's lowest and highest single value)."""
    if cell.low is None or cell.high is None:
        return ""
    return f"{cell.low:.2e} – {cell.high:.2e}"
