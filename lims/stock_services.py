"""Writes and checks of a powder's stock (lims.stock does the arithmetic).

A draw is checked in the transaction that records it, after the powder's row is locked with
SELECT ... FOR UPDATE: a second, simultaneous draw on the same powder waits for the first to
commit and then reads the stock the first left (PostgreSQL's read-committed statements each see
what was committed before them), so two draws can never both pass on the same grams.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from lims import quantities, rules, stock
from lims.models import Sample
from lims.stock_models import StockCorrection
from lims.stock_queries import stock_of
from lims.voiding import reason_clean, refuse_void, save_audited


def _locked(sample: Sample) -> Sample:
    return Sample.objects.select_for_update(of=("self",)).get(pk=sample.pk)


def _refused(err: stock.StockError) -> ValidationError:
    return ValidationError({err.field: [err.message]})


@transaction.atomic
def stock_draw_check(
    *, sample: Sample, wanted_g: float, use: str, field: str, more: bool = False
) -> None:
    """Lock the powder and refuse (ValidationError on `field`) drawing `wanted_g` (`more` than
    before, for a corrected amount) when less is left. Call it inside the transaction that
    then writes the draw: the lock lasts until that commits."""
    locked = _locked(sample)
    try:
        stock.check_draw(
            code=locked.code, left_g=stock_of(locked.pk).left_g, wanted_g=wanted_g, use=use,
            field=field, more=more,
        )  # fmt: skip
    except stock.StockError as err:
        raise _refused(err) from None


@transaction.atomic
def stock_initial_check(*, sample: Sample, initial_g: float, what: str, field: str) -> None:
    """Lock the powder and refuse a new initial amount (a corrected yield) below what was
    already drawn from it, net of corrections."""
    locked = _locked(sample)
    try:
        stock.check_initial(
            code=locked.code, stock=stock_of(locked.pk), initial_g=initial_g, what=what,
            field=field,
        )  # fmt: skip
    except stock.StockError as err:
        raise _refused(err) from None


@transaction.atomic
def stock_correct(*, sample: Sample, user, delta_g: float, reason: str) -> StockCorrection:
    """Add `delta_g` (signed, grams) to a tracked powder's stock with a reason: the powder's
    owner or a lab manager; never below zero; one audit row."""
    rules.require(user, "change", sample)
    locked = _locked(sample)
    refuse_void(locked)
    why = reason_clean(reason, action="correct the stock of", record=locked)
    message = quantities.problem("stock_correction_g", delta_g)
    if message is None and delta_g == 0:
        message = "a correction of 0 g changes nothing"
    if message is not None:
        raise ValidationError({"delta_g": [message]})
    try:
        stock.check_correction(
            code=locked.code, left_g=stock_of(locked.pk).left_g, delta_g=delta_g, field="delta_g"
        )
    except stock.StockError as err:
        raise _refused(err) from None
    correction = StockCorrection(sample=locked, delta_g=float(delta_g), reason=why, by=user)
    save_audited(correction, user=user, reason=why)
    return correction
