"""The sample list's rows, built in Python (lims/templatetags/kiln_sample_rows.py), are the
markup the template loop made (kept here as the reference), value for value and escaped."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from lims.corrections import sample_void
from lims.models import POWDER_KINDS, Sample
from lims.services import sample_register
from lims.stock_queries import page_with_stock
from lims.templatetags.kiln_sample_rows import sample_rows

pytestmark = pytest.mark.django_db

REFERENCE = Template(
    """{% load kiln_stock %}{% for s in samples %}
    <tr>
      <td><a href="/samples/{{ s.code }}/"><strong>{{ s.code }}</strong></a>{% if s.voided_at %} <mark data-testid="void" title="{{ s.void_reason }}">void</mark>{% endif %}</td>
      <td>{{ s.get_kind_display }}</td><td>{{ s.name }}</td><td>{{ s.formula }}</td>
      <td>{{ s.get_status_display }}</td>
      <td class="kiln-nowrap" data-testid="left">{% if s.kind in powder_kinds %}{% if s.stock_left_g is None %}<small title="no yield or amount recorded">not tracked</small>{% else %}{{ s.stock_left_g|grams }}{% endif %}{% endif %}</td>
      <td>{{ s.owner.get_username|default:"—" }}</td>
      <td>{{ s.created_at|date:"Y-m-d H:i" }}</td>
    </tr>
  {% empty %}
    <tr><td colspan="8" class="kiln-empty">No samples match.</td></tr>
  {% endfor %}"""  # noqa: E501 - the template loop the tag replaced, as it was
)


def squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def test_rows_match_the_template_loop_for_every_kind_of_row(chemist):
    powder = sample_register(kind="cathode", name='Li1.2 "<b>rich</b>" & co', owner=chemist,
                             formula="Li1.2Mn0.6Ni0.2O2", initial_mass_g=9.42)  # fmt: skip
    untracked = sample_register(kind="precursor", name="no amount entered")
    cell = sample_register(kind="cell", name="cell <script>", owner=chemist)
    sample_void(sample=cell, user=chemist, reason='typo: "wrong" <cell>')
    samples = list(Sample.objects.select_related("owner").order_by("-id"))
    page_with_stock(samples)
    kinds = [str(kind) for kind in POWDER_KINDS]
    ours = str(sample_rows(samples, kinds))
    assert squeezed(ours) == squeezed(
        REFERENCE.render(Context({"samples": samples, "powder_kinds": kinds}))
    )
    assert "&lt;script&gt;" in ours and "<script>" not in ours
    assert "9.42 g" in ours and "not tracked" in ours and powder.code in ours
    assert untracked.code in ours and 'title="typo: &quot;wrong&quot; &lt;cell&gt;"' in ours
    assert squeezed(str(sample_rows([], kinds))) == squeezed(
        REFERENCE.render(Context({"samples": [], "powder_kinds": kinds}))
    )
