"""The study comparison page, its exports and its API on the study's three groups built in the
database: pristine LMNO (chosen by its code), Li2SiO3@LMNO (by its recipe, two batches) and
Na2SiO3@LMNO (by its coating formula), each powder -> electrode -> cells -> measurements, with
analysis results of known values written directly (StudyBuilder; the benchmark uses it too).

Every number of the table is checked against the values the builder wrote; flagged results are
left out and listed; the query count does not grow from 3×2 to 3×8 cells."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import statistics
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from characterization import services, study_queries
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import RawFile, RefinementResult
from lims.models import EdgeRole, SampleKind
from lims.services import ParentLink, sample_register
from synthesis.models import Batch, BatchStatus, Recipe, RecipeKind
from tests.characterization.factories import CellFactory, ElectrodeFactory
from tests.lims.factories import UserFactory

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
RATES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
RATE_DROP = {
    0.05: 0.0,
    0.1: 8.0,
    0.2: 18.0,
    0.5: 35.0,
    1.0: 55.0,
    2.0: 80.0,
    5.0: 120.0,
    10.0: 155.0,
}
GROUPS = ("Pristine", "LSO", "NSO")
FLAG = {
    "code": "capacity_above_theoretical",
    "message": "1120 mAh/g is above theory",
    "severity": "flag",
    "cycles": [1],
}
NOTE = {"code": "incomplete_cycle", "message": "the last cycle is cut", "severity": "note"}
_counter = itertools.count(1)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def cell_numbers(g: int, i: int) -> dict:
    """The known values of cell i of group g (0 pristine, 1 LSO, 2 NSO)."""
    discharge = 250.0 + 2 * g + 0.5 * i
    return {
        "charge": 330.0 - 10 * g + i,
        "discharge": discharge,
        "rates": {r: discharge - RATE_DROP[r] + 3 * g for r in RATES},
        "returned": discharge - 10.0 + g,
        "fade": 0.80 - 0.2 * g + 0.01 * i,
        "q_start": 200.0 + i,
        "q_end": 150.0 + 10 * g + 0.5 * i,
        "d_charge": [k * 1e-11 * (1 + g) * (1 + 0.1 * i) for k in (1.0, 2.0, 3.0)],
        "d_discharge": [k * 1e-12 * (1 + g) * (1 + 0.2 * i) for k in (5.0, 10.0)],
        "r_ct_before": 50.0 + 5 * g + i,
        "r_ct_after": 150.0 - 20 * g + 2 * i,
        "o2": 0.40 - 0.1 * g + 0.01 * i,
        "co2": 0.20 - 0.05 * g + 0.005 * i,
        "dsc": (220.0 + 15 * g + i, 900.0 - 100 * g + 5 * i),
    }


def cycle_row(c: int, q: float) -> dict:
    """A cycle of a cycling summary with every column the kind stores (cycling.py)."""
    mass_g = 0.0064
    return {
        "cycle": c, "instrument_cycle": c, "complete": True, "end_unverified": False,
        "incomplete_reason": None, "charge_capacity_mah": (q + 2) * mass_g,
        "discharge_capacity_mah": q * mass_g, "charge_capacity_mah_g": q + 2,
        "discharge_capacity_mah_g": q, "coulombic_efficiency": q / (q + 2),
        "retention": q / 240.0, "charge_energy_mwh": 3.9 * q * mass_g,
        "discharge_energy_mwh": 3.4 * q * mass_g, "charge_energy_mwh_g": 3.9 * q,
        "discharge_energy_mwh_g": 3.4 * q, "mean_discharge_voltage_v": 3.5 - 0.0004 * c,
        "charge_current_ma": 8.0, "discharge_current_ma": -8.0, "charge_end_v": 4.8,
        "discharge_end_v": 2.0,
    }  # fmt: skip


def powder_numbers(g: int, k: int) -> dict:
    return {
        "xrd": (2.8580 + 0.001 * g + 0.0002 * k, 14.250 + 0.005 * g + 0.001 * k),
        "rietveld": (2.8590 + 0.001 * g + 0.0001 * k, 14.260 + 0.004 * g + 0.002 * k),
        "slab": 2.10 + 0.01 * g + 0.002 * k,
        "interslab": 2.65 - 0.01 * g + 0.003 * k,
        "tm_o": 1.96 + 0.002 * g + 0.001 * k,
    }


class StudyBuilder:
    """The study's materials, then `add_cells(n)` cells per group with every measurement;
    `expected[(metric key, group)]` collects (sample code, value, result refs) that count."""

    def __init__(self, *, long_cycles: int = 20):
        self.long_cycles = long_cycles
        self.user = UserFactory(username="study-builder")
        self.definitions = {}
        self.expected = defaultdict(list)
        self.left_out = []  # (group, sample code, "job:<pk>" or "refinement:<pk>")
        self.cells = {name: [] for name in GROUPS}
        pristine = sample_register(
            kind=SampleKind.CATHODE, name="LMNO pristine", formula="Li1.2Mn0.6Ni0.2O2"
        )
        self.pristine = pristine
        self.lso_recipe = self._coating_recipe("lso-coating", "Li2SiO3")
        nso_recipe = self._coating_recipe("nso-coating", "Na2SiO3")
        self.powders = {
            "Pristine": [pristine],
            "LSO": [self._coat(self.lso_recipe, "LSO", k) for k in range(2)],
            "NSO": [self._coat(nso_recipe, "NSO", 0)],
        }
        self.electrodes = {
            name: [ElectrodeFactory(active_material=p) for p in powders]
            for name, powders in self.powders.items()
        }
        for g, name in enumerate(GROUPS):
            for k, powder in enumerate(self.powders[name]):
                self._powder_measurements(g, name, k, powder)
        # a cell of another powder, in no group
        stranger = sample_register(kind=SampleKind.CATHODE, name="another powder")
        self._cell_measurements(
            0, "", 0, CellFactory(electrode=ElectrodeFactory(active_material=stranger)).sample
        )

    @property
    def specs(self) -> list[str]:
        return [
            f"Pristine:{self.pristine.code}",
            f"LSO:recipe={self.lso_recipe.pk}",
            "NSO:coating=Na2SiO3",
        ]

    def _coating_recipe(self, family: str, formula: str) -> Recipe:
        return Recipe.objects.create(
            family=family,
            name=f"{formula}@LMNO 1 wt%",
            kind=RecipeKind.COATING,
            product_name=f"{formula}@LMNO",
            coating_formula=formula,
            default_coating_wt_percent=1.0,
        )

    def _coat(self, recipe: Recipe, label: str, k: int):
        product = sample_register(
            kind=SampleKind.CATHODE,
            name=f"{label} powder {k + 1}",
            parents=[ParentLink(self.pristine, EdgeRole.SUBSTRATE, 1.0, "g")],
        )
        Batch.objects.create(
            code=f"B-{label}-{k + 1}",
            recipe=recipe,
            operator=self.user,
            status=BatchStatus.COMPLETED,
            substrate=self.pristine,
            substrate_mass_g=1.0,
            coating_wt_percent=1.0,
            calcination_temperature_c=750.0,
            product=product,
        )
        return product

    # --- records ----------------------------------------------------------------------------

    def measure(self, subject, mtype: str, days: float):
        return services.measurement_record(
            subject=subject, measurement_type=mtype, operator=None, measured_at=at(days)
        ).measurement

    def result(self, measurement, kind: str, summary: dict, *, warnings=(), finished: float = 0):
        n = next(_counter)
        definition = self.definitions.get(kind)
        if definition is None:
            definition = AnalysisDefinition.objects.create(name=f"study {kind}", kind=kind)
            self.definitions[kind] = definition
        raw, _ = RawFile.objects.get_or_create(
            sha256=hashlib.sha256(f"raw {measurement.pk}".encode()).hexdigest(),
            defaults={"size_bytes": 100, "original_name": f"{measurement.sample.code}.txt"},
        )
        result = AnalysisResult.objects.create(
            cache_key=hashlib.sha256(f"result {n}".encode()).hexdigest(),
            kind=kind,
            kind_version=1,
            parser_version="1",
            summary=summary,
            warnings=list(warnings),
        )
        finished_at = measurement.measured_at + dt.timedelta(hours=1 + finished)
        job = AnalysisJob.objects.create(
            definition=definition,
            measurement=measurement,
            raw_file=raw,
            kind=kind,
            kind_version=1,
            status=JobStatus.SUCCEEDED,
            result=result,
            finished_at=finished_at,
        )
        return f"job:{job.pk}"

    def expect(self, key: str, group: str, code: str, value: float, *refs: str, spread=()):
        if group:
            self.expected[(key, group)].append((code, value, refs, tuple(spread)))

    # --- a powder: XRD (ex situ counts, in situ not) and a Rietveld refinement -------------

    def _powder_measurements(self, g: int, name: str, k: int, powder) -> None:
        numbers = powder_numbers(g, k)
        old = self.measure(powder, "xrd", 0.1)
        self.result(old, "xrd_reflections", {"lattice": {"a_angstrom": 9.9, "c_angstrom": 9.9}})
        xrd = self.measure(powder, "xrd", 0.2)
        a, c = numbers["xrd"]
        ref = self.result(xrd, "xrd_reflections", {"lattice": {"a_angstrom": a, "c_angstrom": c}})
        self.expect("xrd_a_angstrom", name, powder.code, a, ref)
        self.expect("xrd_c_angstrom", name, powder.code, c, ref)
        in_situ = self.measure(powder, "in_situ_xrd", 0.3)
        self.result(in_situ, "xrd_reflections", {"lattice": {"a_angstrom": 1.0, "c_angstrom": 1.0}})
        rietveld = self.measure(powder, "rietveld", 0.4)
        a, c = numbers["rietveld"]
        flagged = name == "LSO" and k == 1
        row = RefinementResult.objects.create(
            measurement=rietveld,
            origin="transition_metal",
            a_angstrom=a,
            c_angstrom=c,
            z_oxygen=0.258,
            slab_thickness_angstrom=numbers["slab"],
            interslab_spacing_angstrom=numbers["interslab"],
            cell_volume_angstrom3=100.9,
            tm_o_bond_angstrom=numbers["tm_o"],
            warnings=["TM slab (2.9 Å) is thicker than the Li interslab"] if flagged else [],
        )
        ref = f"refinement:{row.pk}"
        if flagged:
            self.left_out.append((name, powder.code, ref))
            return
        for key, value in (
            ("rietveld_a_angstrom", a),
            ("rietveld_c_angstrom", c),
            ("slab_angstrom", numbers["slab"]),
            ("interslab_angstrom", numbers["interslab"]),
            ("tm_o_angstrom", numbers["tm_o"]),
        ):
            self.expect(key, name, powder.code, value, ref)

    # --- cells -------------------------------------------------------------------------------

    def add_cells(self, per_group: int) -> None:
        for g, name in enumerate(GROUPS):
            for _ in range(per_group):
                i = len(self.cells[name])
                electrodes = self.electrodes[name]
                cell = CellFactory(electrode=electrodes[i % len(electrodes)]).sample
                self.cells[name].append(cell)
                self._cell_measurements(g, name, i, cell)

    def _cell_measurements(self, g: int, name: str, i: int, cell) -> None:
        n = cell_numbers(g, i)
        code = cell.code
        self._formation(g, name, i, cell, n)
        self._rate_test(name, cell, n)
        self._long_cycling(name, cell, n)
        self._eis(g, name, i, cell, n)
        pitt = self.measure(cell, "pitt", 11)
        steps = [
            {
                "index": j,
                "potential_v": 3.6 + 0.1 * j,
                "direction": "charge",
                "d_cm2_per_s": d,
                "r_squared": 0.99,
                "fit_window_s": [10, 100],
            }
            for j, d in enumerate(n["d_charge"])
        ]
        steps += [
            {
                "index": 10 + j,
                "potential_v": 4.0 - 0.1 * j,
                "direction": "discharge",
                "d_cm2_per_s": d,
                "r_squared": 0.99,
                "fit_window_s": [10, 100],
            }
            for j, d in enumerate(n["d_discharge"])
        ]
        ref = self.result(pitt, "pitt_diffusion", {"steps": steps, "refused_steps": []})
        for key, values in (("d_li_charge", n["d_charge"]), ("d_li_discharge", n["d_discharge"])):
            self.expect(key, name, code, math.log10(statistics.median(values)), ref, spread=values)
        dems = self.measure(cell, "dems", 12)
        gases = {
            "O2": {"micromol": 1.0, "micromol_per_mg": n["o2"]},
            "CO2": {"micromol": 0.5, "micromol_per_mg": n["co2"]},
        }
        ref = self.result(dems, "gas_evolution", {"gases": gases})
        self.expect("o2_micromol_per_mg", name, code, n["o2"], ref)
        self.expect("co2_micromol_per_mg", name, code, n["co2"], ref)
        if i < 2:  # DSC of the charged electrodes of two cells per group
            temperature, heat = n["dsc"]
            peaks = [
                {
                    "kind": "endo",
                    "onset_temperature_c": 90.0,
                    "peak_temperature_c": 100.0,
                    "enthalpy_j_per_g": 2000.0,
                },
                {
                    "kind": "exo",
                    "onset_temperature_c": 150.0,
                    "peak_temperature_c": 180.0,
                    "enthalpy_j_per_g": 50.0,
                },
                {
                    "kind": "exo",
                    "onset_temperature_c": temperature - 10,
                    "peak_temperature_c": temperature,
                    "enthalpy_j_per_g": heat,
                },
            ]
            ref = self.result(self.measure(cell, "dsc", 13), "dsc_peaks", {"peaks": peaks})
            self.expect("dsc_peak_temperature_c", name, code, temperature, ref)
            self.expect("dsc_enthalpy_j_per_g", name, code, heat, ref)

    def _formation(self, g: int, name: str, i: int, cell, n: dict) -> None:
        formation = self.measure(cell, "cycling", 1)
        summary = {
            "cycle": 1,
            "charge_capacity_mah_g": n["charge"],
            "discharge_capacity_mah_g": n["discharge"],
            "first_cycle_efficiency": n["discharge"] / n["charge"],
            "plateau_capacity_mah_g": 120.0,
        }
        ref = self.result(formation, "first_cycle", summary, warnings=[NOTE])
        if name == "Pristine" and i == 0:  # its newest result is flagged: left out
            bad = {**summary, "charge_capacity_mah_g": 1120.0}
            self.left_out.append(
                (
                    name,
                    cell.code,
                    self.result(formation, "first_cycle", bad, warnings=[FLAG], finished=1),
                )
            )
        else:
            self.expect("first_charge_mah_g", name, cell.code, n["charge"], ref)
            self.expect("first_discharge_mah_g", name, cell.code, n["discharge"], ref)
            efficiency = 100 * n["discharge"] / n["charge"]
            self.expect("first_cycle_efficiency_percent", name, cell.code, efficiency, ref)
        self.result(
            formation, "voltage_fade", {"first_cycle": 2, "last_cycle": 3, "fade_mv_per_cycle": 9.0}
        )

    def _rate_test(self, name: str, cell, n: dict) -> None:
        rate = self.measure(cell, "rate_test", 2)
        steps = [
            {
                "step": s + 1,
                "rate_c": r,
                "rate_snapped": True,
                "cycles": [2 * s + 1],
                "mean_discharge_capacity_mah_g": n["rates"][r],
            }
            for s, r in enumerate(RATES)
        ]
        steps.append(
            {
                "step": 9,
                "rate_c": 0.1,
                "rate_snapped": True,
                "cycles": [17],
                "mean_discharge_capacity_mah_g": n["returned"],
            }
        )
        recovery = {
            "rate_c": 0.1,
            "reference_step": 2,
            "return_step": 9,
            "fraction": n["returned"] / n["rates"][0.1],
        }
        ref = self.result(
            rate, "rate_capability", {"steps": steps, "recovery": recovery, "one_c_ma_per_g": 250.0}
        )
        self.result(rate, "first_cycle", {"charge_capacity_mah_g": 1.0})  # not the formation
        for r in RATES:
            self.expect(f"rate_{r:g}c_mah_g", name, cell.code, n["rates"][r], ref)
        self.expect("rate_recovery_percent", name, cell.code, 100 * recovery["fraction"], ref)

    def _long_cycling(self, name: str, cell, n: dict) -> None:
        long = self.measure(cell, "cycling", 4)
        last = self.long_cycles
        cycles = []
        for c in range(1, last + 1):
            q = n["q_start"] + (n["q_end"] - n["q_start"]) * (c - 3) / (last - 3)
            q = 240.0 if c < 3 else q
            cycles.append(cycle_row(c, q))
        summary_ref = self.result(
            long, "cycling_summary", {"cycles": cycles, "complete_cycles": last}
        )
        fade = {
            "first_cycle": 3,
            "last_cycle": last,
            "fade_mv_per_cycle": n["fade"],
            "fitted_fade_mv_per_cycle": 0.95 * n["fade"],
            "window": "default",
            "cycles": list(range(3, last + 1)),
            "mean_discharge_voltage_v": [3.5 - 0.0004 * c for c in range(3, last + 1)],
        }
        ref = self.result(long, "voltage_fade", fade)
        self.result(long, "first_cycle", {"charge_capacity_mah_g": 2.0})  # 5C: not the formation
        self.expect(
            "retention_percent", name, cell.code, 100 * n["q_end"] / n["q_start"], ref, summary_ref
        )
        self.expect("fade_mv_per_cycle", name, cell.code, n["fade"], ref)
        self.expect("fitted_fade_mv_per_cycle", name, cell.code, 0.95 * n["fade"], ref)

    def _eis(self, g: int, name: str, i: int, cell, n: dict) -> None:
        def fit(r_ct: float, reliable: bool = True) -> dict:
            return {
                "r_s_ohm": 3.0,
                "circuit": "R0-p(R1,CPE1)",
                "r_ct_ohm": r_ct,
                "mean_relative_residual": 0.01 if reliable else 0.2,
                "reliable": reliable,
                "unreliable_reason": None if reliable else "residual 20 % above 5 %",
            }

        before = self.measure(cell, "eis", 0.5)
        ref = self.result(before, "eis_fit", fit(n["r_ct_before"]))
        self.expect("r_ct_before_ohm", name, cell.code, n["r_ct_before"], ref)
        self.result(self.measure(cell, "eis", 3), "eis_fit", fit(999.0))  # not the latest after
        after = self.measure(cell, "eis", 10)
        if name == "NSO" and i == 1:
            warning = {
                "code": "fit_unreliable",
                "message": "residual 20 % above 5 %",
                "severity": "flag",
            }
            ref = self.result(after, "eis_fit", fit(5000.0, False), warnings=[warning])
            self.left_out.append((name, cell.code, ref))
        else:
            ref = self.result(after, "eis_fit", fit(n["r_ct_after"]))
            self.expect("r_ct_after_ohm", name, cell.code, n["r_ct_after"], ref)


# --- expected figures --------------------------------------------------------------------------

DIGITS = {
    "xrd_a_angstrom": 4,
    "xrd_c_angstrom": 4,
    "rietveld_a_angstrom": 4,
    "rietveld_c_angstrom": 4,
    "slab_angstrom": 4,
    "interslab_angstrom": 4,
    "tm_o_angstrom": 4,
    "fade_mv_per_cycle": 3,
    "fitted_fade_mv_per_cycle": 3,
    "o2_micromol_per_mg": 3,
    "co2_micromol_per_mg": 3,
    "d_li_charge": 2,
    "d_li_discharge": 2,
}
ROW_KEYS = [
    "first_charge_mah_g",
    "first_discharge_mah_g",
    "first_cycle_efficiency_percent",
    *(f"rate_{r:g}c_mah_g" for r in RATES),
    "rate_recovery_percent",
    "retention_percent",
    "fade_mv_per_cycle",
    "fitted_fade_mv_per_cycle",
    "d_li_charge",
    "d_li_discharge",
    "r_ct_before_ohm",
    "r_ct_after_ohm",
    "o2_micromol_per_mg",
    "co2_micromol_per_mg",
    "dsc_peak_temperature_c",
    "dsc_enthalpy_j_per_g",
    "xrd_a_angstrom",
    "xrd_c_angstrom",
    "rietveld_a_angstrom",
    "rietveld_c_angstrom",
    "slab_angstrom",
    "interslab_angstrom",
    "tm_o_angstrom",
]


def expected_cell(builder: StudyBuilder, key: str, group: str) -> dict:
    entries = builder.expected[(key, group)]
    values = [value for _, value, _, _ in entries]
    spread = [x for *_, s in entries for x in s]
    digits = DIGITS.get(key, 1)
    mean = statistics.fmean(values) if values else None
    sd = statistics.stdev(values) if len(values) > 1 else None
    if mean is None:
        text = "–"
    elif sd is None:
        text = f"{mean:.{digits}f} ({len(values)})"
    else:
        text = f"{mean:.{digits}f} ± {sd:.{digits}f} ({len(values)})"
    return {
        "mean": mean,
        "sd": sd,
        "n": len(values),
        "text": text,
        "min": min(spread) if spread else None,
        "max": max(spread) if spread else None,
        "subjects": [code for code, *_ in entries],
        "refs": {ref for _, _, refs, _ in entries for ref in refs},
    }


def approx_or_none(value):
    return None if value is None else pytest.approx(value, rel=1e-12, abs=1e-15)


@pytest.fixture
def built(db):
    builder = StudyBuilder()
    builder.add_cells(2)
    return builder


@pytest.fixture
def viewer(db):
    """A viewer reads everything and writes nothing (the role of lims.rules)."""
    return UserFactory(username="vera", groups=["viewer"])


def page(client, specs, **extra):
    return client.get("/study/", [("group", s) for s in specs], **extra)


# --- the table ---------------------------------------------------------------------------------


def test_every_number_of_the_study_table_is_the_mean_sd_and_n_of_the_known_values(
    client, chemist, built
):
    client.force_login(chemist)
    response = page(client, built.specs)
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split('id="study-table"')[1].split("</table>")[0]
    keys = [part.split('"')[0] for part in table.split('data-metric="')[1:]]
    assert keys == ROW_KEYS
    for key in ROW_KEYS:
        row = table.split(f'data-metric="{key}"')[1].split("</tr>")[0]
        for group in GROUPS:
            cell_html = row.split(f'data-group="{group}"')[1].split("</td>")[0]
            expected = expected_cell(built, key, group)
            assert f'data-n="{expected["n"]}"' in cell_html, (key, group)
            if expected["n"]:
                summary = cell_html.split('data-testid="cell-text">')[1].split("<")[0]
                assert summary == expected["text"], (key, group)
                for ref in expected["refs"]:  # every result behind the value is linked
                    source, pk = ref.split(":")
                    assert f'data-result="{ref}"' in cell_html, (key, group, ref)
                    url = f"/jobs/{pk}/" if source == "job" else "#refinement"
                    assert url in cell_html
            else:
                assert cell_html.strip().endswith("–")
    # hand-worked spot checks of the 3×2 table (cell i of group g: cell_numbers)
    assert expected_cell(built, "first_discharge_mah_g", "Pristine")["text"] == "250.5 (1)"
    assert expected_cell(built, "first_discharge_mah_g", "NSO")["text"] == "254.2 ± 0.4 (2)"
    # LSO retention: 160/200 = 80 %, 160.5/201 = 79.85 %
    assert expected_cell(built, "retention_percent", "LSO")["text"] == "79.9 ± 0.1 (2)"
    assert expected_cell(built, "rietveld_a_angstrom", "LSO")["text"] == "2.8600 (1)"


def test_the_d_li_rows_show_the_range_of_every_step_and_the_groups_keep_their_own_cells(
    client, chemist, built
):
    client.force_login(chemist)
    data = client.get("/api/v1/study/", [("group", s) for s in built.specs]).json()
    d_row = next(r for r in data["rows"] if r["key"] == "d_li_charge")
    for group, cell in zip(GROUPS, d_row["cells"], strict=True):
        expected = expected_cell(built, "d_li_charge", group)
        assert (cell["min"], cell["max"]) == (
            approx_or_none(expected["min"]),
            approx_or_none(expected["max"]),
        )
        assert cell["range_text"] == f"{expected['min']:.2e} – {expected['max']:.2e}"
    groups = {g["name"]: g for g in data["groups"]}
    # the coated powders are children of the pristine one, but their cells are not pristine
    assert groups["Pristine"]["members"]["cell"] == 2
    assert groups["Pristine"]["roots"] == [built.pristine.code]
    assert groups["LSO"]["roots"] == sorted(p.code for p in built.powders["LSO"])
    assert groups["LSO"]["members"] == {"cathode": 2, "electrode": 2, "cell": 2}
    assert groups["NSO"]["spec"] == "NSO:coating=Na2SiO3"


def test_flagged_results_are_left_out_and_listed_with_their_reasons(client, chemist, built):
    client.force_login(chemist)
    response = page(client, built.specs)
    html = response.content.decode()
    listed = html.split('id="study-left-out"')[1].split("</article>")[0]
    assert "Left out: 3 flagged results" in listed
    for group, code, ref in built.left_out:
        row = listed.split(f'data-left-out="{ref}"')[1].split("</tr>")[0]
        assert group in row and code in row
    assert "1120 mAh/g is above theory" in listed and "capacity_above_theoretical" in listed
    assert "residual 20 % above 5 %" in listed and "thicker than the Li interslab" in listed
    data = client.get("/api/v1/study/", [("group", s) for s in built.specs]).json()
    items = {f"{i['result']['source']}:{i['result']['id']}": i for i in data["left_out"]}
    assert set(items) == {ref for *_, ref in built.left_out}
    first = next(i for i in data["left_out"] if i["result"]["kind"] == "first_cycle")
    assert first["metrics"] == [
        "First charge capacity",
        "First discharge capacity",
        "First-cycle efficiency",
    ]
    refinement = next(i for i in data["left_out"] if i["result"]["source"] == "refinement")
    assert len(refinement["metrics"]) == 5 and refinement["group"] == "LSO"


def test_the_api_answers_the_same_table_as_json(client, chemist, built):
    client.force_login(chemist)
    response = client.get("/api/v1/study/", [("group", s) for s in built.specs])
    assert response.status_code == 200
    data = response.json()
    assert [g["name"] for g in data["groups"]] == list(GROUPS)
    assert [r["key"] for r in data["rows"]] == ROW_KEYS
    for row in data["rows"]:
        for group, cell in zip(GROUPS, row["cells"], strict=True):
            expected = expected_cell(built, row["key"], group)
            assert cell["group"] == group
            assert (cell["n"], cell["text"]) == (expected["n"], expected["text"])
            assert cell["mean"] == approx_or_none(expected["mean"]), (row["key"], group)
            assert cell["sd"] == approx_or_none(expected["sd"]), (row["key"], group)
            assert [v["subject"] for v in cell["values"]] == sorted(expected["subjects"])
            refs = {f"{r['source']}:{r['id']}" for v in cell["values"] for r in v["results"]}
            assert refs == expected["refs"]


def test_the_csv_and_excel_exports_carry_the_table_values_and_left_out(client, chemist, built):
    client.force_login(chemist)
    query = [("group", s) for s in built.specs]
    response = client.get("/study/export.csv", query)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["section", "metric", "unit", "range unit"]
    assert header[4:10] == [f"Pristine {c}" for c in ("mean", "sd", "n", "min", "max", "results")]
    assert len(body) == len(ROW_KEYS)
    labels = {r["key"]: r["label"] for r in client.get("/api/v1/study/", query).json()["rows"]}
    for key, line in zip(ROW_KEYS, body, strict=True):
        assert line[1] == labels[key]
        for g, group in enumerate(GROUPS):
            mean, sd, n, low, high, results = line[4 + 6 * g : 10 + 6 * g]
            expected = expected_cell(built, key, group)
            assert int(n) == expected["n"]
            assert (float(mean) if mean else None) == approx_or_none(expected["mean"])
            assert (float(sd) if sd else None) == approx_or_none(expected["sd"])
            assert (float(low) if low else None) == approx_or_none(expected["min"])
            assert (float(high) if high else None) == approx_or_none(expected["max"])
            assert set(results.split()) == expected["refs"]
    response = client.get("/study/export.xlsx", query)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["study", "values", "left out"]
    sheet = [list(r) for r in book["study"].iter_rows(values_only=True)]
    assert sheet[0] == header and len(sheet) == len(body) + 1
    key = ROW_KEYS.index("first_discharge_mah_g")
    assert sheet[1 + key][4 + 12] == pytest.approx(
        expected_cell(built, ROW_KEYS[key], "NSO")["mean"]
    )
    values = list(book["values"].iter_rows(values_only=True))
    assert len(values) - 1 == sum(len(v) for v in built.expected.values())
    left = list(book["left out"].iter_rows(values_only=True))
    assert {row[2] for row in left[1:]} == {ref for *_, ref in built.left_out}


# --- input, roles, the form --------------------------------------------------------------------


def test_a_bad_group_is_refused_with_a_sentence_on_the_page_the_export_and_the_api(
    client, chemist, built
):
    client.force_login(chemist)
    bad = ["Pristine:CAT-1999-9999", "LSO:colour=red"]
    response = page(client, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "These groups cannot be compared" in html and "unknown selector" in html
    response = client.get("/api/v1/study/", [("group", "LSO:recipe=999999")])
    assert response.status_code == 400
    assert response.json() == {"errors": {"group": ["LSO: no recipe id 999999"]}}
    response = client.get("/api/v1/study/", [("group", "Pristine:CAT-1999-9999")])
    assert response.json() == {
        "errors": {"group": ["Pristine: no sample has the code CAT-1999-9999"]}
    }
    response = client.get("/api/v1/study/", [("group", "X:batch=NOPE")])
    assert response.json()["errors"]["group"] == ["X: no completed batch matches batch=NOPE"]
    assert client.get("/api/v1/study/").json()["errors"]["group"][0].startswith("give at least")
    response = client.get("/study/export.csv", [("group", "no selector")])
    assert response.status_code == 400 and b"write a group as Name:selector" in response.content


def test_a_viewer_may_read_and_a_user_without_a_role_is_refused(client, viewer, built):
    client.force_login(viewer)
    assert page(client, built.specs).status_code == 200
    assert client.get("/api/v1/study/", [("group", built.specs[0])]).status_code == 200
    client.force_login(UserFactory(username="nobody"))
    assert page(client, built.specs).status_code == 403
    assert client.get("/study/export.csv", [("group", built.specs[0])]).status_code == 403
    assert client.get("/api/v1/study/", [("group", built.specs[0])]).status_code == 403
    client.logout()
    assert page(client, built.specs).status_code == 302  # to the login page


def test_the_form_builds_the_group_syntax_and_shows_the_groups_it_was_given(client, chemist, built):
    client.force_login(chemist)
    rows = [
        ("name", "Pristine"),
        ("by", "samples"),
        ("value", f"{built.pristine.code}  "),
        ("name", "LSO"),
        ("by", "recipe"),
        ("value", str(built.lso_recipe.pk)),
        ("name", ""),
        ("by", "samples"),
        ("value", ""),
    ]
    response = client.get("/study/", rows)
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 200
    data = client.get("/api/v1/study/" + response["Location"][len("/study/") :]).json()
    assert [g["spec"] for g in data["groups"]] == built.specs[:2]
    html = follow.content.decode()
    assert f'value="{built.pristine.code}"' in html and 'value="recipe" selected' in html
    assert client.get("/study/").status_code == 200  # the empty form


def test_the_api_documents_the_group_parameter_and_its_400():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/study/"]["get"]
    (parameter,) = operation["parameters"]
    assert parameter["name"] == "group" and parameter["required"] is True
    assert "Name:selector" in parameter["description"]
    assert {"200", "400"} <= set(operation["responses"])


# --- speed: a constant number of queries -------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_cells(client, chemist, db):
    builder = StudyBuilder()
    client.force_login(chemist)
    counts = []
    for more in (2, 6):  # 3 × 2 cells, then 3 × 8
        builder.add_cells(more)
        with CaptureQueriesContext(connection) as table_queries:
            study_queries.study_table(builder.specs)
        with CaptureQueriesContext(connection) as page_queries:
            assert page(client, builder.specs).status_code == 200
        counts.append((len(table_queries), len(page_queries)))
    assert counts[0] == counts[1]
    # codes, recipes, batches, walk, edges, samples, measurements, results, cycles, refinements
    assert counts[0][0] == 10


VOIDING = any(f.name == "voided_at" for f in AnalysisJob._meta.get_fields())


@pytest.mark.skipif(not VOIDING, reason="this tree has no voiding (lims.voiding)")
def test_voided_results_and_samples_do_not_count(built, chemist):
    from django.utils import timezone

    from lims.models import Sample

    # the flagged newest first cycle of a pristine cell
    (ref,) = [ref for group, _, ref in built.left_out if group == "Pristine"]
    void = {"voided_at": timezone.now(), "voided_by": chemist, "void_reason": "wrong file"}
    AnalysisJob.objects.filter(pk=int(ref.split(":")[1])).update(**void)
    table = study_queries.table_data(study_queries.study_table(built.specs))
    first = next(r for r in table["rows"] if r["key"] == "first_discharge_mah_g")
    assert first["cells"][0]["n"] == 2  # the older, good result of that cell stands again
    Sample.objects.filter(code=built.cells["NSO"][0].code).update(**void)
    table = study_queries.table_data(study_queries.study_table(built.specs))
    o2 = next(r for r in table["rows"] if r["key"] == "o2_micromol_per_mg")
    assert [v["subject"] for v in o2["cells"][2]["values"]] == [built.cells["NSO"][1].code]


def test_groups_by_the_batch_terms_hold_the_products_of_the_matching_batches(
    client, chemist, built
):
    client.force_login(chemist)
    specs = [
        "All coated:coating_wt_percent=1;calcination_temperature_c=750",
        "LSO family:recipe=lso-coating@1",
        "One batch:batch=b-lso-1",
        "By operator:operator=study-builder;coating=Na2SiO3",
    ]
    data = client.get("/api/v1/study/", [("group", s) for s in specs]).json()
    roots = {g["name"]: g["roots"] for g in data["groups"]}
    lso = [p.code for p in built.powders["LSO"]]
    nso = built.powders["NSO"][0].code
    assert roots == {
        "All coated": sorted([*lso, nso]),
        "LSO family": sorted(lso),
        "One batch": [lso[0]],
        "By operator": [nso],
    }
    # a powder that is a root of two groups counts in both (a tie: as near to each)
    cells = {g["name"]: g["members"].get("cell", 0) for g in data["groups"]}
    assert cells == {"All coated": 4, "LSO family": 2, "One batch": 1, "By operator": 2}
