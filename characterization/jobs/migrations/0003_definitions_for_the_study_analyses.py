"""Default definitions for the analyses issue 10 adds (as characterization 0002 seeded the first
ones): each runs on its measurement type's uploads (the two cycling additions on request) with
default parameters, which a lab
manager edits in the admin (a DEMS calibration factor, a PITT diffusion length ...). Values
are frozen here, not read from the registry, so the migration means the same forever."""

from django.db import migrations

DEFINITIONS = (
    # The cycling additions run when asked (the measurement page, or a lab manager adds
    # "cycling" to their auto-run types): every cycling upload already starts four analyses.
    ("Voltage hysteresis", "voltage_hysteresis", {}, []),
    (
        "First-charge plateau",
        "first_charge_plateau",
        {"threshold_v": 4.4, "plateau_floor_v": 4.4, "slope_threshold_v_per_100mah_g": 0.5},
        [],
    ),
    (
        "DSC peaks",
        "dsc_peaks",
        {"sample_mass_mg": None, "baseline_low_c": None, "baseline_high_c": None, "segment": None},
        ["dsc"],
    ),
    (
        "XRD reflections and lattice",
        "xrd_reflections",
        {
            "wavelength_a": None,
            "a_guess_angstrom": 2.86,
            "c_guess_angstrom": 14.25,
            "window_deg": 0.5,
            "ignore_peaks_deg": [],
        },
        ["xrd", "in_situ_xrd"],
    ),
    (
        "PITT diffusion coefficient",
        "pitt_diffusion",
        {"diffusion_length_um": None, "min_r_squared": 0.95},
        ["pitt"],
    ),
    (
        "Gas evolution (DEMS)",
        "gas_evolution",
        {
            "o2_mz": 32,
            "o2_factor": None,
            "co2_mz": 44,
            "co2_factor": None,
            "time_offset_s": None,
            "background_start_s": None,
            "background_end_s": None,
        },
        ["dems"],
    ),
    (
        "Impedance: R_s and equivalent-circuit fit",
        "eis_fit",
        {
            "circuit": "R0-p(R1,CPE1)-W1",
            "cycle": None,
            "weighting": "auto",
            "residual_threshold_percent": 5.0,
        },
        ["eis"],
    ),
)


def seed(apps, schema_editor):
    Definition = apps.get_model("jobs", "AnalysisDefinition")
    rows = Definition.objects.using(schema_editor.connection.alias)
    for name, kind, parameters, types in DEFINITIONS:
        if rows.filter(kind=kind).exists() or rows.filter(name=name).exists():
            continue  # a lab manager made one already
        rows.create(name=name, kind=kind, parameters=parameters, auto_run_for=types)


def unseed(apps, schema_editor):
    Definition = apps.get_model("jobs", "AnalysisDefinition")
    rows = Definition.objects.using(schema_editor.connection.alias)
    rows.filter(kind__in=[d[1] for d in DEFINITIONS], jobs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_content_types_follow_the_models")]
    operations = [migrations.RunPython(seed, unseed)]
