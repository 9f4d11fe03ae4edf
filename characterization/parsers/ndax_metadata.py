"""What a Neware .ndax file says about its test: active mass, channel, start time, step program.

A .ndax is a zip of binary records (.ndc) and XML parts. The XML parts are read with fastnda's
metadata reader (`fastnda.ndax.read_ndax_metadata`, what `fastnda.read_metadata` calls for a
name ending .ndax; Kiln's stored files have no extension, so the .ndax reader is called
directly). It returns each part as a dict ({"Step": {...}, "TestInfo": {...}, ...}) without
interpreting it; this module interprets:

- Step.xml (the step program that ran; Step0.xml is the program before an edit during the
  test): Head_Info/SCQ is the active mass in µg (as the .nda header stores it), Head_Info/
  MultCap the nominal capacity in mAs, Remark/Creator; each StepN under Step_Info is one step:
  Step_Type coded as in fastnda.dicts.STEP_TYPE_MAP, and its Limit/Main values with Neware's
  units: Curr and Stop_Curr mA, Volt and Stop_Volt 0.1 mV, Time ms, Rate and Stop_Rate C.
  Other limits (Cap, Energy, ...) are kept as recorded, unconverted: their units are not
  documented.
- TestInfo.xml: DevID/UnitID/ChlID/TestID (the channel), StartTime/EndTime (local wall clock,
  no zone), Barcode, StepName. Its Backup part, when there, is JSON whose CreateTime carries the
  computer's UTC offset; the start time is made aware with it when the two agree.

The library reads all parts at once and gives up on the first bad one; then each part is read
on its own, the same way (defusedxml, then xmltodict), so one damaged part costs only its own
fields. A missing or unreadable part gives None fields and a warning, never an exception.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._zip import DEFAULT_LIMITS, UnpackLimits, open_archive
from .errors import ParseError

MAX_XML_BYTES = 4 << 20  # real parts are 1-10 KB; larger ones are not read
STEP_PART, TEST_PART = "Step", "TestInfo"
_ZONE_AGREEMENT_S = 120  # CreateTime is written when the test is created, seconds before start
_LOST = {
    STEP_PART: "no step program or active mass",
    TEST_PART: "no channel, start time or barcode",
}


@dataclass(frozen=True)
class Channel:
    device: str
    unit: str
    channel: str
    test_id: str = ""
    device_type: str = ""

    @property
    def label(self) -> str:
        """Neware's device-unit-channel (the BTS client's naming, e.g. 120-1-6)."""
        return f"{self.device}-{self.unit}-{self.channel}"


@dataclass(frozen=True)
class Step:
    index: int
    type: str  # Neware's step name: CC_Chg, CCCV_DChg, Rest, Cycle, End ...
    current_ma: float | None = None
    c_rate: float | None = None
    voltage_v: float | None = None  # the CV voltage of a CV / CCCV step
    stop_voltage_v: float | None = None
    stop_current_ma: float | None = None
    stop_c_rate: float | None = None
    time_limit_s: float | None = None
    cycle_from_step: int | None = None  # a Cycle step: back to this step ...
    cycle_count: int | None = None  # ... this many times
    other_limits: dict[str, str] = field(default_factory=dict)  # as recorded, unconverted

    @property
    def end_conditions(self) -> list[str]:
        """What ends the step, as text with units (any one of them ends it)."""
        if self.cycle_count is not None:
            return [f"back to step {self.cycle_from_step}, {self.cycle_count} times"]
        ends = [f"{value:g} {unit}" for value, unit in (
            (self.stop_voltage_v, "V"), (self.stop_current_ma, "mA"), (self.stop_c_rate, "C"),
        ) if value is not None]  # fmt: skip
        if self.time_limit_s is not None:
            hours = f" ({self.time_limit_s / 3600:g} h)" if self.time_limit_s >= 3600 else ""
            ends.append(f"{self.time_limit_s:g} s{hours}")
        ends += [f"{name} {value} (as recorded)" for name, value in self.other_limits.items()]
        return ends

    @property
    def label(self) -> str:
        """CC charge, CCCV discharge, Rest ..."""
        name = self.type.replace("_DChg", " discharge").replace("_Chg", " charge")
        return name.replace("_", " ")


@dataclass(frozen=True)
class NdaxMetadata:
    active_mass_mg: float | None = None
    nominal_capacity_mah: float | None = None
    channel: Channel | None = None
    start_time: dt.datetime | None = None  # aware when the file gives its UTC offset
    end_time: dt.datetime | None = None
    step_program: list[Step] | None = None
    step_file: str = ""
    program_edited: bool = False  # the program was changed during the test (Step0.xml kept)
    barcode: str = ""
    remarks: str = ""
    creator: str = ""
    warnings: list[str] = field(default_factory=list)
    reader: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start_time", "end_time"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NdaxMetadata:
        data = dict(data)
        for key in ("start_time", "end_time"):
            data[key] = dt.datetime.fromisoformat(data[key]) if data.get(key) else None
        if data.get("channel"):
            data["channel"] = Channel(**data["channel"])
        if data.get("step_program") is not None:
            data["step_program"] = [Step(**step) for step in data["step_program"]]
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})


def read_ndax_metadata(path: str | Path, *, limits: UnpackLimits = DEFAULT_LIMITS) -> NdaxMetadata:
    """The file's metadata; parts that are missing or cannot be read give None and a warning."""
    warnings: list[str] = []
    parts, reader = _parts(Path(path), limits, warnings)
    step_part = parts.get(STEP_PART)
    test_part = parts.get(TEST_PART)
    found: dict[str, Any] = {}
    if step_part is not None:
        found.update(_from_step_part(step_part, warnings))
        found["program_edited"] = f"{STEP_PART}0" in parts
    if test_part is not None:
        found.update(_from_test_part(test_part, warnings))
    return NdaxMetadata(**found, warnings=warnings, reader=reader)


# --- reading the parts ------------------------------------------------------------------------


def _parts(path: Path, limits: UnpackLimits, warnings: list[str]) -> tuple[dict, str]:
    """{part name: dict} from the library, or part by part when it fails."""
    try:
        with open_archive(path, limits) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".xml")]
            names = {_part_name(i.filename) for i in members}
            big = [i.filename for i in members if i.file_size > MAX_XML_BYTES]
            for wanted, lost in _LOST.items():
                if wanted not in names:
                    warnings.append(f"the file has no {wanted}.xml: {lost}")
            if not big:
                library = _library_parts(path)
                if library is not None:
                    return library, _library_name()
            return _parts_one_by_one(archive, members, warnings), f"{_library_name()}, by part"
    except ParseError as exc:
        warnings.append(f"the archive cannot be opened: {exc}")
        return {}, ""


def _library_parts(path: Path) -> dict | None:
    from fastnda.ndax import read_ndax_metadata as library_read

    try:
        parts = library_read(path)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a damaged part: read them one by one
        return None
    return parts if isinstance(parts, dict) else None


def _library_name() -> str:
    from importlib.metadata import version

    return f"fastnda {version('fastnda')}"


def _parts_one_by_one(archive: zipfile.ZipFile, members, warnings: list[str]) -> dict:
    """Each XML part as the library reads it (defusedxml, the <config> element, xmltodict)."""
    import xmltodict
    from defusedxml import ElementTree

    parts = {}
    for info in members:
        name = _part_name(info.filename)
        if info.file_size > MAX_XML_BYTES:
            lost = f": {_LOST[name]}" if name in _LOST else ""
            warnings.append(
                f"{info.filename} is too large to be read ({info.file_size} bytes){lost}"
            )
            continue
        try:
            text = archive.read(info).decode(errors="ignore")
            config = ElementTree.fromstring(text).find("config")
            if config is None:
                raise ValueError("no <config> element")
            parts[name] = xmltodict.parse(ElementTree.tostring(config).decode(), attr_prefix="")[
                "config"
            ]
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoding error: this part only
            lost = f": {_LOST[name]}" if name in _LOST else ""
            warnings.append(f"{info.filename} cannot be read ({_first_line(exc)}){lost}")
    return parts


def _part_name(filename: str) -> str:
    return filename.split("/")[-1].split(".")[0]  # as the library names them


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else type(exc).__name__


# --- interpreting them ------------------------------------------------------------------------


def _from_step_part(part: dict, warnings: list[str]) -> dict[str, Any]:
    if not isinstance(part, dict):
        warnings.append("Step.xml has no readable content: no step program or active mass")
        return {}
    head = part.get("Head_Info") if isinstance(part.get("Head_Info"), dict) else {}
    mass_ug = _number(_value(head, "SCQ"))
    capacity_mas = _number(_value(head, "MultCap"))
    info = part.get("Step_Info")
    steps = None
    if isinstance(info, dict):
        steps = [
            _step(k, v) for k, v in info.items() if k.startswith("Step") and isinstance(v, dict)
        ]
        steps = sorted((s for s in steps if s is not None), key=lambda s: s.index)
    else:
        warnings.append("Step.xml has no Step_Info: no step program")
    return {
        "active_mass_mg": mass_ug / 1000 if mass_ug else None,
        "nominal_capacity_mah": capacity_mas / 3600 if capacity_mas else None,
        "step_program": steps,
        "remarks": _text(_value(head, "Remark")),
        "creator": _text(_value(head, "Creator")),
    }


def _step(key: str, node: dict) -> Step | None:
    from fastnda.dicts import STEP_TYPE_MAP

    index = _integer(node.get("Step_ID")) or _integer(key.removeprefix("Step"))
    if index is None:
        return None
    code = _integer(node.get("Step_Type"))
    name = STEP_TYPE_MAP.get(code, f"type {node.get('Step_Type')}") if code is not None else "?"
    limit = node.get("Limit") if isinstance(node.get("Limit"), dict) else {}
    main = limit.get("Main") if isinstance(limit.get("Main"), dict) else {}
    other = limit.get("Other") if isinstance(limit.get("Other"), dict) else {}
    known = {"Curr", "Rate", "Volt", "Stop_Volt", "Stop_Curr", "Stop_Rate", "Time"}
    return Step(
        index=index,
        type=name,
        current_ma=_number(_value(main, "Curr")),
        c_rate=_number(_value(main, "Rate")),
        voltage_v=_scaled(_value(main, "Volt"), 1e-4),
        stop_voltage_v=_scaled(_value(main, "Stop_Volt"), 1e-4),
        stop_current_ma=_number(_value(main, "Stop_Curr")),
        stop_c_rate=_number(_value(main, "Stop_Rate")),
        time_limit_s=_scaled(_value(main, "Time"), 1e-3),
        cycle_from_step=_integer(_value(other, "Start_Step")),
        cycle_count=_integer(_value(other, "Cycle_Count")),
        other_limits={
            k: str(_value(main, k))
            for k in main
            if k not in known and isinstance(_value(main, k), str | int | float)
        },
    )


def _from_test_part(part: dict, warnings: list[str]) -> dict[str, Any]:
    info = part.get("TestInfo") if isinstance(part, dict) else None
    if not isinstance(info, dict):
        warnings.append("TestInfo.xml has no TestInfo entry: no channel, start time or barcode")
        return {}
    backup = _backup(part.get("Backup"))
    unit = backup.get("UnitIDDisplay", info.get("UnitID"))
    chl = backup.get("ChlIDDisplay", info.get("ChlID"))
    channel = None
    if info.get("DevID") is not None and unit is not None and chl is not None:
        channel = Channel(
            device=str(info["DevID"]),
            unit=str(unit),
            channel=str(chl),
            test_id=_text(info.get("TestID")),
            device_type=_text(info.get("DevType")),
        )
    offset = _offset(backup.get("CreateTime"), info.get("StartTime"))
    return {
        "channel": channel,
        "start_time": _wall_clock(info.get("StartTime"), offset),
        "end_time": _wall_clock(info.get("EndTime"), offset),
        "barcode": _text(info.get("Barcode")),
        "step_file": _text(info.get("StepName")),
    }


def _backup(node) -> dict:
    text = _value({"Backup": node}, "Backup") if isinstance(node, dict) else None
    try:
        data = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _offset(create_time, start_text) -> dt.tzinfo | None:
    """The UTC offset of Backup's CreateTime, when it is within minutes of the start time."""
    start = _wall_clock(start_text, None)
    if not isinstance(create_time, str) or start is None:
        return None
    try:  # "2025-04-07T12:44:13.8760134+02:00": seven decimals, more than Python reads
        head, _, rest = create_time.partition(".")
        zone = rest.lstrip("0123456789") if rest else ""
        created = dt.datetime.fromisoformat(head + zone)
    except ValueError:
        return None
    if created.tzinfo is None:
        return None
    if abs((created.replace(tzinfo=None) - start).total_seconds()) > _ZONE_AGREEMENT_S:
        return None
    return created.tzinfo


def _wall_clock(text, zone: dt.tzinfo | None) -> dt.datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if zone else moment


def _value(node: dict, key: str):
    """<Key Value="..."/> as xmltodict gives it: {"Key": {"Value": "..."}}."""
    entry = node.get(key) if isinstance(node, dict) else None
    return entry.get("Value") if isinstance(entry, dict) else None


def _number(text) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _scaled(text, factor: float) -> float | None:
    number = _number(text)
    return None if number is None else round(number * factor, 9)


def _integer(text) -> int | None:
    number = _number(text)
    return int(number) if number is not None and number.is_integer() else None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""
