"""`{{ value|grams }}`: a mass in grams as the stock pages show it ('1.50 g'; '—' for None)."""

from __future__ import annotations

from django import template

from lims.stock import grams_text

register = template.Library()


@register.filter
def grams(value) -> str:
    return "—" if value is None else grams_text(float(value))
