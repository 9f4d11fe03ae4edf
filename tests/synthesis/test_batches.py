"""Batches: the plan is frozen, actuals are compared with it, completion registers the product
with its lineage and decrements the lots once."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from lims.models import EdgeRole, Sample, SampleEdge, SampleKind
from synthesis import queries, services
from synthesis.models import Batch, BatchStatus, Lot
from synthesis.planning import PlanInputs
from synthesis.services import Actual, BatchStateError
from tests.synthesis.conftest import reagent

pytestmark = pytest.mark.django_db
HAND = 1e-9


def test_planning_an_nso_batch_freezes_teos_and_sodium_carbonate_for_one_gram(nso_batch):
    # n_c = 0.0100 g / 122.0615 g/mol = 8.1926e-5 mol = n(TEOS) = n(Na2CO3)
    # TEOS 98 %: 8.1926e-5 × 208.329 / 0.98 = 0.0174159 g; / 0.933 g/mL = 0.0186665 mL
    # Na2CO3 99.5 %: 8.1926e-5 × 105.9875 / 0.995 = 0.00872676 g
    teos, soda = reagent(nso_batch, "TEOS"), reagent(nso_batch, "Na2CO3")

    assert teos.planned_mass_g == pytest.approx(0.017415855539163375, rel=HAND)
    assert teos.planned_volume_ml == pytest.approx(0.018666511831900722, rel=HAND)
    assert soda.planned_mass_g == pytest.approx(0.008726757053281029, rel=HAND)
    assert soda.planned_volume_ml is None
    assert reagent(nso_batch, "LMNO").planned_mass_g == 1.0
    assert reagent(nso_batch, "Deionised water").planned_volume_ml == 50.0  # 50 mL per 1 g


def test_the_frozen_plan_records_its_inputs_and_the_atomic_weight_table(nso_batch):
    plan = Batch.objects.get().plan

    assert plan["coating"]["mass_g"] == pytest.approx(0.01, rel=HAND)
    assert plan["basis"] == "substrate"
    assert "CIAAW" in plan["atomic_weight_table"]
    assert plan["inputs"]["substrate_mass_g"] == 1.0
    assert plan["recipe"] == {
        "id": nso_batch.recipe_id,
        "family": "nso",
        "version": 1,
        "name": "NSO: 1 wt% Na2SiO3@LMNO",
    }
    teos = next(line for line in plan["lines"] if line["name"] == "TEOS")
    assert teos["purity_source"] == "lot" and teos["density_g_per_ml"] == 0.933


def test_planning_denormalises_the_final_calcination_and_logs_every_step(nso_batch):
    batch = Batch.objects.get()

    assert (batch.calcination_temperature_c, batch.calcination_duration_h) == (750, 12)
    assert batch.status == BatchStatus.PLANNED and batch.code.startswith("SYN-")
    assert batch.step_logs.count() == 9
    assert batch.reagents.count() == 6


def test_a_pristine_batch_weighs_lithium_carbonate_with_five_percent_excess(pristine, chemist):
    # n_t = 10 g / 85.0275 g/mol = 0.117609 mol; n(Li2CO3) = 0.6 × 1.05 × n_t
    # m = 0.0740937 mol × 73.888 g/mol / 0.99 = 5.52993 g
    batch = services.batch_create(
        user=chemist, recipe=pristine, inputs=PlanInputs(target_mass_g=10.0)
    )

    assert reagent(batch, "Li2CO3").planned_mass_g == pytest.approx(5.529932452003829, rel=HAND)
    assert reagent(batch, "MnCO3").planned_mass_g == pytest.approx(8.119332892681706, rel=HAND)
    assert reagent(batch, "Ni acetate").planned_mass_g == pytest.approx(5.972650697660883, rel=HAND)
    assert reagent(batch, "Ethanol (milling)").planned_volume_ml == pytest.approx(100.0)
    assert batch.calcination_temperature_c == 900


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"substrate_mass_g": 0}, "substrate_mass_g"),
        ({"substrate_mass_g": -1.0}, "substrate_mass_g"),
        ({"coating_wt_percent": 0}, "coating_wt_percent"),
        ({"coating_wt_percent": 100}, "coating_wt_percent"),
        ({"coating_wt_percent": -3}, "coating_wt_percent"),
        ({"substrate": None}, "substrate"),
        ({"calcination_temperature_c": -20}, "calcination_temperature_c"),
    ],
)
def test_bad_plan_input_is_a_field_error_and_nothing_is_saved(
    nso, substrate, chemist, inputs, field
):
    arguments = {"substrate": substrate, "substrate_mass_g": 1.0, **inputs}

    with pytest.raises(ValidationError) as err:
        services.batch_create(user=chemist, recipe=nso, inputs=PlanInputs(**arguments))

    assert list(err.value.message_dict) == [field]
    assert not Batch.objects.exists()


def test_a_substrate_whose_formula_does_not_parse_is_refused_on_the_substrate(nso, chemist):
    bad = Sample.objects.create(
        code="CAT-2026-9999", kind=SampleKind.CATHODE, name="x", formula="LMNO"
    )

    with pytest.raises(ValidationError) as err:
        services.batch_create(
            user=chemist, recipe=nso, inputs=PlanInputs(substrate=bad, substrate_mass_g=1.0)
        )

    assert "CAT-2026-9999" in err.value.message_dict["substrate"][0]
    assert not Batch.objects.exists()


def test_an_expired_or_short_lot_is_a_warning_not_a_refusal(nso, lots, substrate, chemist):
    soda = lots["Sodium carbonate"]
    Lot.objects.filter(pk=soda.pk).update(amount_left=0.005, expires_on="2020-01-01")
    line = nso.lines.get(name="Na2CO3")
    inputs = PlanInputs(
        substrate=substrate, substrate_mass_g=1.0, lots={line.pk: Lot.objects.get(pk=soda.pk)}
    )

    batch = services.batch_create(user=chemist, recipe=nso, inputs=inputs)

    warnings = next(row for row in batch.plan["lines"] if row["name"] == "Na2CO3")["warnings"]
    assert any("expired on 2020-01-01" in w for w in warnings)
    assert any("has 0.005 g left" in w for w in warnings)
    assert reagent(batch, "Na2CO3").lot_id == soda.pk


def test_a_lot_of_another_chemical_is_refused(nso, lots, substrate, chemist):
    line = nso.lines.get(name="Na2CO3")
    inputs = PlanInputs(
        substrate=substrate, substrate_mass_g=1.0, lots={line.pk: lots["Lithium carbonate"]}
    )

    with pytest.raises(ValidationError) as err:
        services.batch_create(user=chemist, recipe=nso, inputs=inputs)

    assert f"lot_{line.pk}" in err.value.message_dict


def test_recording_actuals_starts_the_batch_and_flags_deviations_beyond_two_percent(
    nso_batch, chemist
):
    teos, soda = reagent(nso_batch, "TEOS"), reagent(nso_batch, "Na2CO3")

    flagged = services.batch_record_actuals(
        user=chemist,
        batch=nso_batch,
        actuals={
            teos.pk: Actual(volume_ml=teos.planned_volume_ml * 1.015),
            soda.pk: Actual(mass_g=soda.planned_mass_g * 1.03),
        },
    )

    teos.refresh_from_db()
    soda.refresh_from_db()
    assert [r.pk for r in flagged] == [soda.pk]
    assert teos.deviation_percent == pytest.approx(1.5) and not teos.flagged
    assert soda.deviation_percent == pytest.approx(3.0) and soda.flagged
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.IN_PROGRESS and batch.started_at is not None


def test_the_tolerance_is_chosen_per_batch(nso, substrate, chemist):
    batch = services.batch_create(
        user=chemist,
        recipe=nso,
        tolerance_percent=5.0,
        inputs=PlanInputs(substrate=substrate, substrate_mass_g=1.0),
    )
    soda = reagent(batch, "Na2CO3")

    services.batch_record_actuals(
        user=chemist, batch=batch, actuals={soda.pk: Actual(mass_g=soda.planned_mass_g * 1.04)}
    )

    soda.refresh_from_db()
    assert soda.deviation_percent == pytest.approx(4.0) and not soda.flagged


def test_a_zero_or_negative_actual_mass_is_refused_and_nothing_is_recorded(nso_batch, chemist):
    soda = reagent(nso_batch, "Na2CO3")

    with pytest.raises(ValidationError) as err:
        services.batch_record_actuals(
            user=chemist, batch=nso_batch, actuals={soda.pk: Actual(mass_g=-0.01)}
        )

    assert f"mass_{soda.pk}" in err.value.message_dict
    soda.refresh_from_db()
    assert soda.actual_mass_g is None
    assert Batch.objects.get().status == BatchStatus.PLANNED


def test_a_planned_batch_cannot_be_completed_before_it_starts(nso_batch, chemist):
    with pytest.raises(BatchStateError, match="planned"):
        services.batch_complete(user=chemist, batch=nso_batch)

    assert (
        not Sample.objects.filter(kind=SampleKind.CATHODE)
        .exclude(pk=nso_batch.substrate_id)
        .exists()
    )


def _weigh_and_complete(batch, user, **complete):
    rows = {r.line.name: r for r in batch.reagents.select_related("line")}
    services.batch_record_actuals(
        user=user,
        batch=batch,
        actuals={
            rows["LMNO"].pk: Actual(mass_g=0.998),
            rows["TEOS"].pk: Actual(volume_ml=0.0187),
            rows["Na2CO3"].pk: Actual(mass_g=0.0088),
        },
    )
    return services.batch_complete(user=user, batch=batch, **complete)


def test_completing_registers_the_product_with_edges_to_substrate_and_lots(nso_batch, chemist):
    batch = _weigh_and_complete(nso_batch, chemist, yield_mass_g=0.95)

    product = Sample.objects.get(pk=batch.product_id)
    assert product.kind == SampleKind.CATHODE and product.code.startswith("CAT-")
    assert product.name == f"Na2SiO3@LMNO (NSO) ({batch.code})"
    edges = {
        (e.parent_id, e.role): (e.amount, e.amount_unit)
        for e in SampleEdge.objects.filter(child=product)
    }
    teos_lot = reagent(batch, "TEOS").lot
    soda_lot = reagent(batch, "Na2CO3").lot
    assert edges[(nso_batch.substrate_id, EdgeRole.SUBSTRATE)] == (0.998, "g")
    assert edges[(teos_lot.sample_id, EdgeRole.REAGENT)] == (0.0187, "mL")
    assert edges[(soda_lot.sample_id, EdgeRole.REAGENT)] == (0.0088, "g")
    assert len(edges) == 1 + 4  # the substrate; ammonia, TEOS, ethanol and Na2CO3 lots
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.COMPLETED and batch.yield_mass_g == 0.95
    assert batch.finished_by == chemist


def test_completing_decrements_each_lot_by_what_was_weighed_in_its_unit(nso_batch, chemist):
    before = {lot.pk: lot.amount_left for lot in Lot.objects.all()}

    batch = _weigh_and_complete(nso_batch, chemist)

    teos_lot = Lot.objects.get(pk=reagent(batch, "TEOS").lot_id)
    soda_lot = Lot.objects.get(pk=reagent(batch, "Na2CO3").lot_id)
    ethanol_lot = Lot.objects.get(pk=reagent(batch, "Ethanol (wash)").lot_id)
    assert teos_lot.amount_left == pytest.approx(before[teos_lot.pk] - 0.0187)  # mL lot
    assert soda_lot.amount_left == pytest.approx(before[soda_lot.pk] - 0.0088)  # g lot
    assert ethanol_lot.amount_left == pytest.approx(before[ethanol_lot.pk] - 40.0)  # planned


def test_completing_twice_is_refused_and_the_lots_are_decremented_once(nso_batch, chemist, manager):
    _weigh_and_complete(nso_batch, chemist)
    after_first = dict(Lot.objects.values_list("pk", "amount_left"))
    products = Sample.objects.filter(kind=SampleKind.CATHODE).count()

    with pytest.raises(BatchStateError, match="completed by chen"):
        services.batch_complete(user=manager, batch=nso_batch)

    assert dict(Lot.objects.values_list("pk", "amount_left")) == after_first
    assert Sample.objects.filter(kind=SampleKind.CATHODE).count() == products


def test_a_lot_never_goes_below_zero(nso_batch, lots, chemist):
    Lot.objects.filter(pk=lots["Sodium carbonate"].pk).update(amount_left=0.001)

    _weigh_and_complete(nso_batch, chemist)

    assert Lot.objects.get(pk=lots["Sodium carbonate"].pk).amount_left == 0


def test_a_failed_batch_needs_a_reason_and_registers_nothing(nso_batch, chemist):
    with pytest.raises(ValidationError):
        services.batch_fail(user=chemist, batch=nso_batch, reason="  ")

    services.batch_fail(user=chemist, batch=nso_batch, reason="Gelled during stirring.")

    batch = Batch.objects.get()
    assert batch.status == BatchStatus.FAILED and batch.product is None
    assert batch.failure_reason == "Gelled during stirring."
    with pytest.raises(BatchStateError):
        services.batch_start(user=chemist, batch=batch)
    with pytest.raises(BatchStateError):
        services.batch_record_actuals(user=chemist, batch=batch, actuals={})


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (("start",), True),
        (("fail",), True),
        (("start", "complete"), True),
        (("start", "fail"), True),
        (("complete",), False),
        (("start", "start"), False),
        (("start", "complete", "fail"), False),
        (("fail", "complete"), False),
    ],
)
def test_only_the_allowed_status_transitions_happen(nso_batch, chemist, path, allowed):
    actions = {
        "start": lambda b: services.batch_start(user=chemist, batch=b),
        "fail": lambda b: services.batch_fail(user=chemist, batch=b, reason="x"),
        "complete": lambda b: services.batch_complete(user=chemist, batch=b),
    }
    for step in path[:-1]:
        actions[step](nso_batch)

    if allowed:
        actions[path[-1]](nso_batch)
    else:
        status = Batch.objects.get().status
        with pytest.raises(BatchStateError):
            actions[path[-1]](nso_batch)
        assert Batch.objects.get().status == status


def test_logging_a_step_done_stamps_its_end_and_who_did_it(nso_batch, chemist):
    log = nso_batch.step_logs.get(step__kind="stir")

    services.batch_log_step(
        user=chemist,
        batch=nso_batch,
        step_log=log,
        done=True,
        rpm=690,
        equipment="IKA RCT basic #2",
    )

    log.refresh_from_db()
    assert log.done and log.ended_at is not None and log.done_by == chemist
    assert (log.rpm, log.equipment) == (690, "IKA RCT basic #2")
    assert Batch.objects.get().status == BatchStatus.IN_PROGRESS


def test_the_history_keeps_every_status_of_a_batch(nso_batch, chemist):
    _weigh_and_complete(nso_batch, chemist)

    statuses = list(Batch.history.order_by("history_id").values_list("status", flat=True))
    assert statuses[0] == "planned" and statuses[-1] == "completed"
    assert "in_progress" in statuses


def test_default_lots_are_the_first_to_expire_that_has_not_expired(nso, lots, chemist):
    soda = lots["Sodium carbonate"]  # expires in a year
    for number, expires in (("OLD", "2020-01-01"), ("LATER", "2099-01-01")):
        services.lot_create(
            user=chemist,
            chemical=soda.chemical,
            supplier="Merck",
            lot_number=number,
            amount=5,
            amount_unit="g",
            received_on=datetime.date(2019, 1, 1),
            expires_on=expires,
        )

    chosen = queries.default_lots(nso)[nso.lines.get(name="Na2CO3").pk]

    assert chosen.pk == soda.pk
