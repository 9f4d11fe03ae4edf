"""Other files an analysis reads beside its own (AnalysisKind.companions). They are chosen when
the job is queued and recorded in its cell context, so they enter the cache key and the
result's provenance, and a new companion file gives a new result:

- "cycling" (gas evolution): the cycling file the MS record is aligned to and plotted under:
  a cycler file of the DEMS measurement itself, else one of the same cell's cycling
  measurement measured closest in time to it (none: the analysis runs on the MS clock alone);
- "calibration" (gas evolution): the DEMS measurement the `calibration_measurement` parameter
  names (a pulse of known amounts, stated in its conditions as `o2_injected_umol`, ...): its
  first file, with those conditions recorded beside it;
- "reference" (XRD): the pattern of the sample the `reference_sample` parameter names: its
  latest XRD measurement's first file (no such sample or pattern: the job fails saying so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from characterization.analysis.errors import AnalysisError
from characterization.analysis.registry import AnalysisKind, Companion
from characterization.jobs.errors import JobDataError
from characterization.jobs.inputs import live_files
from characterization.models import Measurement, RawFile, ReadState
from characterization.parsers.detect import FORMATS as CYCLER_FORMATS
from lims.models import Sample

CONTEXT_KEY = "companions"  # cell_context[CONTEXT_KEY] = {name: {"sha256", "file", "measurement"}}
XRD_TYPES = ("xrd", "in_situ_xrd")


def companions_for(
    kind: AnalysisKind, measurement: Measurement, raw_file: RawFile, parameters: Mapping
) -> dict:
    """{name: {"sha256", "file", "measurement"}} of the companions Kiln finds for this job."""
    found = {}
    for name, _table_kind in kind.companions:
        raw, owner, *conditions = _FINDERS[name](measurement, raw_file, parameters)
        if raw is not None:
            found[name] = {"sha256": raw.sha256, "file": raw.original_name, "measurement": owner}
            if conditions:
                found[name]["conditions"] = conditions[0]
    return found


def _cycling(measurement: Measurement, raw_file: RawFile, parameters: Mapping):
    own = [raw for raw in live_files(measurement) if raw != raw_file and _is_cycler_file(raw)]
    if own:
        return own[0], measurement.sample.code
    candidates = (
        Measurement.objects.filter(
            subject_id=measurement.subject_id, measurement_type="cycling", voided_at__isnull=True
        )
        .exclude(pk=measurement.pk)
        .select_related("sample")
        .order_by("-measured_at", "-pk")[:50]
    )
    when = measurement.measured_at
    for candidate in sorted(candidates, key=lambda m: abs((m.measured_at - when).total_seconds())):
        files = [raw for raw in live_files(candidate) if _is_cycler_file(raw)]
        if files:
            return files[0], candidate.sample.code
    return None, None


def _reference(measurement: Measurement, raw_file: RawFile, parameters: Mapping):
    code = (parameters.get("reference_sample") or "").strip()
    if not code:
        return None, None
    sample = Sample.objects.filter(code__iexact=code).first()
    if sample is None:
        raise AnalysisError("reference_sample", f"there is no sample {code} in Kiln")
    latest = (
        Measurement.objects.filter(
            subject=sample, measurement_type__in=XRD_TYPES, voided_at__isnull=True
        )
        .select_related("sample")
        .order_by("-measured_at", "-pk")
    )
    for candidate in latest[:5]:
        files = [raw for raw in live_files(candidate) if raw != raw_file]
        if files:
            return files[0], candidate.sample.code
    raise AnalysisError("reference_sample", f"{sample.code} has no XRD pattern in Kiln")


def _calibration(measurement: Measurement, raw_file: RawFile, parameters: Mapping):
    code = (parameters.get("calibration_measurement") or "").strip()
    if not code:
        return None, None
    found = Measurement.objects.filter(sample__code__iexact=code).select_related("sample").first()
    if found is None:
        raise AnalysisError("calibration_measurement", f"there is no measurement {code} in Kiln")
    if found.measurement_type != "dems" or found.voided_at is not None:
        why = "void" if found.voided_at else f"a {found.get_measurement_type_display()} measurement"
        raise AnalysisError(
            "calibration_measurement", f"{found.sample.code} is {why}, not a DEMS calibration"
        )
    files = [raw for raw in live_files(found) if raw != raw_file]
    if not files:
        raise AnalysisError("calibration_measurement", f"{found.sample.code} has no file")
    injected = {
        key: value
        for key, value in (found.conditions or {}).items()
        if key.endswith("_injected_umol")
    }
    return files[0], found.sample.code, injected


_FINDERS = {"cycling": _cycling, "reference": _reference, "calibration": _calibration}


def _is_cycler_file(raw: RawFile) -> bool:
    unusable = (ReadState.NOT_CYCLING, ReadState.DAMAGED)
    return raw.detected_format in CYCLER_FORMATS and raw.read_state not in unusable


def load_companions(
    kind: AnalysisKind, cell_context: Mapping, read: Callable[[RawFile, str], object]
) -> dict[str, Companion]:
    """The companions a job recorded, read with `read(raw_file, table_kind)` -> table whose
    attrs carry the reader's metadata under `metadata_key`."""
    recorded = cell_context.get(CONTEXT_KEY) or {}
    table_kinds = dict(kind.companions)
    loaded = {}
    for name, info in recorded.items():
        if name not in table_kinds:
            continue
        raw = RawFile.objects.filter(sha256=info["sha256"]).first()
        if raw is None:
            raise JobDataError(
                f"the {name} file {info['file']} ({info['measurement']}) is no longer in Kiln; "
                "re-run the analysis"
            )
        table, metadata = read(raw, table_kinds[name])
        if "conditions" in info:  # what the companion's measurement states (injected amounts)
            metadata = {**metadata, "measurement_conditions": dict(info["conditions"])}
        loaded[name] = Companion(
            table=table, metadata=metadata, label=f"{info['file']} ({info['measurement']})"
        )
    return loaded
