"""A powder's stock (issue 11 §3): a batch's yield less what electrodes and coating batches drew,
plus corrections with a reason; an overdraw refused with the numbers; shown on the sample page
and the list. Hand-worked: 5.00 g − 1.50 g (electrode) − 2.00 g (coating) − 0.10 g = 1.40 g."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from characterization.models import Electrode
from characterization.services import electrode_build
from lims import stock_services
from lims.corrections import sample_void
from lims.models import EdgeRole, Sample, SampleEdge, SampleKind, StockCorrection
from lims.sample_import import samples_import
from lims.services import lineage_link, sample_register
from lims.stock_queries import stock_of, with_stock
from synthesis import corrections, queries, services
from synthesis.models import Batch, BatchStatus
from synthesis.planning import PlanInputs
from synthesis.services import Actual
from tests.lims.factories import UserFactory
from tests.synthesis.factories import LMNO, make_chemicals, make_lots, make_nso

pytestmark = pytest.mark.django_db
WHY = "0.10 g taken for XRD"


@pytest.fixture
def other_chemist(db):
    return UserFactory(username="olga", groups=["chemist"])


@pytest.fixture
def nso(manager, chemist):
    chemicals = make_chemicals(manager)
    make_lots(chemicals, chemist)
    return make_nso(chemicals, manager)


def coat(nso, substrate: Sample, mass_g: float, user, yield_mass_g: float | None = None) -> Batch:
    """Plan, start and complete an NSO coating of `mass_g` of `substrate` (nothing weighed:
    the planned substrate mass is what is drawn)."""
    inputs = PlanInputs(
        substrate=substrate, substrate_mass_g=mass_g, lots=queries.default_lots(nso)
    )
    batch = services.batch_create(user=user, recipe=nso, inputs=inputs)
    services.batch_start(user=user, batch=batch)
    return services.batch_complete(user=user, batch=batch, yield_mass_g=yield_mass_g)


@pytest.fixture
def powder(nso, chemist) -> Sample:
    """CAT-…: the product of a coating batch whose recorded yield is 5.00 g (chen's)."""
    lmno = sample_register(kind=SampleKind.CATHODE, name="LMNO", owner=chemist, formula=LMNO)
    return coat(nso, lmno, 5.0, chemist, yield_mass_g=5.0).product


def electrode(powder: Sample, active_mass_g: float, user=None) -> Electrode:
    return electrode_build(
        active_material=powder,
        made_by=user,
        active_mass_g=active_mass_g,
        solid_content_percent=40.0,
        casting_thickness_um=200.0,
    )


def left(sample: Sample) -> float | None:
    return stock_of(sample.pk).left_g


def counts() -> tuple[int, ...]:
    models = (Sample, SampleEdge, Electrode, StockCorrection, Sample.history.model)
    return tuple(m.objects.count() for m in models)


# --- draws ---------------------------------------------------------------------------------------


def test_a_yield_of_five_grams_less_an_electrode_of_one_and_a_half_leaves_three_and_a_half(
    powder, chemist
):
    assert left(powder) == pytest.approx(5.0)

    electrode(powder, 1.5, chemist)

    stock = stock_of(powder.pk)
    assert (stock.initial_g, stock.drawn_g, stock.left_g) == pytest.approx((5.0, 1.5, 3.5))


def test_a_coating_batch_draws_its_substrate_mass_from_the_powder(powder, nso, chemist):
    electrode(powder, 1.5, chemist)

    batch = coat(nso, powder, 2.0, chemist)

    assert left(powder) == pytest.approx(1.5)
    edge = SampleEdge.objects.get(parent=powder, child=batch.product, role=EdgeRole.SUBSTRATE)
    assert (edge.amount, edge.amount_unit) == (2.0, "g")


def test_an_electrode_asking_more_than_is_left_is_refused_with_the_numbers_and_nothing_saved(
    powder, nso, chemist
):
    electrode(powder, 1.5, chemist)
    coat(nso, powder, 2.0, chemist)
    before = counts()

    with pytest.raises(ValidationError) as refused:
        electrode(powder, 2.0, chemist)

    assert refused.value.message_dict == {
        "active_mass_g": [f"{powder.code} has 1.50 g left; this electrode would use 2.00 g."]
    }
    assert counts() == before
    assert left(powder) == pytest.approx(1.5)


def test_a_coating_batch_wanting_more_substrate_than_is_left_stays_open(powder, nso, chemist):
    electrode(powder, 4.0, chemist)
    inputs = PlanInputs(substrate=powder, substrate_mass_g=2.0, lots=queries.default_lots(nso))
    batch = services.batch_create(user=chemist, recipe=nso, inputs=inputs)
    services.batch_start(user=chemist, batch=batch)

    with pytest.raises(ValidationError) as refused:
        services.batch_complete(user=chemist, batch=batch)

    assert refused.value.message_dict == {
        "substrate_mass_g": [f"{powder.code} has 1.00 g left; {batch.code} would use 2.00 g."]
    }
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IN_PROGRESS and batch.product_id is None


def test_milligram_edges_are_converted_to_grams(chemist):
    powder = sample_register(kind=SampleKind.CATHODE, name="bought", owner=chemist,
                             initial_mass_g=1.0)  # fmt: skip
    other = sample_register(kind=SampleKind.OTHER, name="pellet", owner=chemist)
    lineage_link(parent=powder, child=other, role=EdgeRole.COMPONENT, amount=250.0,
                 amount_unit="mg")  # fmt: skip

    assert left(powder) == pytest.approx(0.75)
    with pytest.raises(ValidationError, match="has 0.75 g left; this electrode would use 0.80 g"):
        electrode(powder, 0.8, chemist)


def test_an_untracked_powder_never_refuses_a_draw(chemist):
    powder = sample_register(kind=SampleKind.CATHODE, name="old jar", owner=chemist)

    electrode(powder, 600.0, chemist)
    electrode(powder, 600.0, chemist)

    assert left(powder) is None
    assert stock_of(powder.pk).drawn_g == pytest.approx(1200.0)


def test_a_voided_electrode_gives_its_powder_back(powder, chemist):
    sheet = electrode(powder, 1.5, chemist)

    sample_void(sample=sheet.sample, user=chemist, reason="cast on the wrong foil")

    assert left(powder) == pytest.approx(5.0)


def test_the_sql_and_the_pure_arithmetic_agree(powder, nso, chemist, manager):
    electrode(powder, 1.5, chemist)
    coat(nso, powder, 2.0, chemist)
    stock_services.stock_correct(sample=powder, user=manager, delta_g=-0.1, reason=WHY)

    annotated = with_stock(Sample.objects.filter(pk=powder.pk)).get()

    assert annotated.stock_left_g == pytest.approx(1.4)
    assert stock_of(powder.pk).left_g == pytest.approx(annotated.stock_left_g)


# --- corrections ---------------------------------------------------------------------------------


def test_a_correction_with_a_reason_leaves_one_point_four_grams_and_one_audit_row(
    client, powder, nso, chemist
):
    electrode(powder, 1.5, chemist)
    coat(nso, powder, 2.0, chemist)
    client.force_login(chemist)  # the powder's owner: the batch's operator

    response = client.post(
        reverse("samples:stock-correct", args=[powder.code]), {"delta_g": "-0.10", "reason": WHY}
    )

    assert response.status_code == 302
    assert left(powder) == pytest.approx(1.4)
    correction = StockCorrection.objects.get()
    assert (correction.delta_g, correction.reason, correction.by) == (-0.1, WHY, chemist)
    audit = list(StockCorrection.history.values_list("history_user", "history_change_reason"))
    assert audit == [(chemist.pk, WHY)]
    page = client.get(reverse("samples:detail", args=[powder.code])).content.decode()
    assert "Stock: 1.40 g of 5.00 g left" in page
    assert "stock corrected by -0.10 g" in page and WHY in page


def test_a_correction_needs_a_reason_and_may_not_leave_less_than_nothing(powder, manager):
    with pytest.raises(ValidationError) as no_reason:
        stock_services.stock_correct(sample=powder, user=manager, delta_g=-0.1, reason=" ")
    with pytest.raises(ValidationError) as too_much:
        stock_services.stock_correct(sample=powder, user=manager, delta_g=-6.0, reason=WHY)

    assert list(no_reason.value.message_dict) == ["reason"]
    assert too_much.value.message_dict == {
        "delta_g": [f"{powder.code} has 5.00 g left; a correction of -6.00 g would leave -1.00 g."]
    }
    assert not StockCorrection.objects.exists()


def test_a_chemist_who_does_not_own_the_powder_cannot_correct_its_stock(
    client, powder, other_chemist
):
    client.force_login(other_chemist)
    before = counts()

    response = client.post(
        reverse("samples:stock-correct", args=[powder.code]), {"delta_g": "-0.10", "reason": WHY}
    )

    assert response.status_code == 403
    assert "belongs to chen" in response.content.decode()
    assert counts() == before and left(powder) == pytest.approx(5.0)


def test_a_lab_manager_corrects_anyones_powder(client, powder, manager):
    client.force_login(manager)

    response = client.post(
        reverse("samples:stock-correct", args=[powder.code]), {"delta_g": "0.25", "reason": WHY}
    )

    assert response.status_code == 302
    assert left(powder) == pytest.approx(5.25)


def test_a_yield_corrected_below_what_was_drawn_is_refused(powder, chemist):
    electrode(powder, 3.5, chemist)
    batch = powder.produced_by_batch

    with pytest.raises(ValidationError) as refused:
        corrections.batch_correct(batch=batch, user=chemist, reason="reweighed", yield_mass_g=3.0)

    assert refused.value.message_dict == {
        "yield_mass_g": [f"{powder.code} has 3.50 g drawn from it; a yield of 3.00 g would "
                         "leave -0.50 g."]
    }  # fmt: skip
    batch.refresh_from_db()
    assert batch.yield_mass_g == 5.0


def test_a_substrate_mass_corrected_upwards_draws_the_difference(powder, nso, chemist):
    batch = coat(nso, powder, 2.0, chemist)
    electrode(powder, 2.5, chemist)  # 0.50 g left
    row = batch.reagents.get(line__name="LMNO")

    with pytest.raises(ValidationError) as refused:
        corrections.batch_correct(
            batch=batch, user=chemist, reason="reweighed", actuals={row.pk: Actual(mass_g=3.0)}
        )
    corrections.batch_correct(
        batch=batch, user=chemist, reason="reweighed", actuals={row.pk: Actual(mass_g=2.4)}
    )

    assert refused.value.message_dict == {
        f"mass_{row.pk}": [
            f"{powder.code} has 0.50 g left; {batch.code} as corrected would use 1.00 g more."
        ]
    }
    assert left(powder) == pytest.approx(0.1)


# --- pages ---------------------------------------------------------------------------------------


def test_the_sample_page_shows_the_stock_the_draws_the_inputs_and_the_ancestry(
    client, powder, nso, chemist
):
    sheet = electrode(powder, 1.5, chemist)
    coated = coat(nso, powder, 2.0, chemist).product
    client.force_login(chemist)

    page = client.get(reverse("samples:detail", args=[powder.code])).content.decode()
    child = client.get(reverse("samples:detail", args=[coated.code])).content.decode()

    assert "Stock: 1.50 g of 5.00 g left" in page
    assert sheet.sample.code in page and "1.50 g" in page and "2.00 g" in page
    assert 'data-testid="stock-correct"' in page
    made_from = child.split('data-testid="made-from"')[1].split("</ul>")[0]
    assert powder.code in made_from and "(substrate, 2 g)" in made_from
    ancestry = child.split('data-testid="ancestry"')[1].split("</ul>")[0]
    lmno = powder.parent_edges.get(role=EdgeRole.SUBSTRATE).parent
    assert lmno.code in ancestry and lmno.code not in made_from


def test_the_list_shows_what_is_left_of_each_powder(client, powder, chemist):
    electrode(powder, 1.5, chemist)
    untracked = sample_register(kind=SampleKind.CATHODE, name="old jar", owner=chemist)
    client.force_login(chemist)

    page = client.get(reverse("samples:index"), {"kind": "cathode"}).content.decode()

    row = page.split(powder.code)[2].split("</tr>")[0]
    assert "3.50 g" in row
    assert "not tracked" in page.split(untracked.code)[2].split("</tr>")[0]


def _powders(count: int, user) -> None:
    for i in range(count):
        powder = sample_register(kind=SampleKind.CATHODE, name=f"p{i}", owner=user,
                                 initial_mass_g=2.0)  # fmt: skip
        other = sample_register(kind=SampleKind.OTHER, name=f"o{i}", owner=user)
        lineage_link(parent=powder, child=other, role=EdgeRole.COMPONENT, amount=500.0,
                     amount_unit="mg")  # fmt: skip


def test_the_list_costs_the_same_queries_for_5_or_50_powders(
    client, chemist, django_assert_max_num_queries
):
    client.force_login(chemist)
    url = reverse("samples:index")
    _powders(5, chemist)
    with CaptureQueriesContext(connection) as five:
        assert "1.50 g" in client.get(url, {"kind": "cathode"}).content.decode()

    _powders(45, chemist)
    with django_assert_max_num_queries(len(five.captured_queries)):
        page = client.get(url, {"kind": "cathode"}).content.decode()
    assert page.count("1.50 g") == 50


# --- import --------------------------------------------------------------------------------------


def test_an_imported_powder_starts_at_its_amount_and_only_powders_have_one(chemist):
    rows = [(2, {"kind": "cathode", "name": "bought LMNO", "amount_g": "12.5"})]
    report = samples_import(rows=rows, mode="update", dry_run=False, user=chemist)
    bad = [(2, {"kind": "cell", "name": "a cell", "amount_g": "1"})]
    refused = samples_import(rows=bad, mode="update", dry_run=False, user=chemist)

    assert report.ok and left(Sample.objects.get(code=report.created[0])) == 12.5
    assert refused.errors == [(2, "amount_g: only a powder (precursor, cathode) has a stock")]


# --- two draws at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_draws_cannot_both_take_the_same_grams(chemist):
    """A holds the powder's lock (its electrode built, not yet committed); B's electrode must
    wait for it, then read what A left (2.00 g) and be refused. Real row locks: PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks between two connections")
    powder = sample_register(kind=SampleKind.CATHODE, name="shared", owner=chemist,
                             initial_mass_g=5.0)  # fmt: skip
    a_built, a_may_commit, b_done = threading.Event(), threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def run(name: str, before_commit: threading.Event | None) -> None:
        try:
            with transaction.atomic():
                outcomes[name] = electrode(Sample.objects.get(pk=powder.pk), 3.0, chemist)
                if before_commit is not None:
                    a_built.set()
                    before_commit.wait(timeout=10)
        except ValidationError as err:
            outcomes[name] = err
        finally:
            b_done.set() if name == "b" else a_built.set()
            close_old_connections()
            connection.close()

    a = threading.Thread(target=run, args=("a", a_may_commit))
    a.start()
    assert a_built.wait(timeout=10)
    b = threading.Thread(target=run, args=("b", None))
    b.start()
    blocked = not b_done.wait(timeout=1.0)  # B waits on A's lock of the powder row
    a_may_commit.set()
    a.join(timeout=30)
    b.join(timeout=30)

    assert blocked
    assert isinstance(outcomes["a"], Electrode)
    assert isinstance(outcomes["b"], ValidationError)
    assert outcomes["b"].message_dict["active_mass_g"] == [
        f"{powder.code} has 2.00 g left; this electrode would use 3.00 g."
    ]
    assert Electrode.objects.count() == 1 and left(powder) == pytest.approx(2.0)
