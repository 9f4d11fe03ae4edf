"""The study comparison page and its CSV/Excel/Parquet export: groups given as
`?group=Name:selector` side by side, one row per metric (rules in
characterization.analysis.study). Reads only.

The form builds the groups from rows of (name, how, value) and redirects to the canonical
`?group=` address, which can be bookmarked, shared and passed to the export and the API.
"""

from __future__ import annotations

import datetime
import re
from functools import wraps
from itertools import zip_longest
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from characterization import study_queries
from characterization.analysis import study
from lims import downloads, rules

# Reading the study needs a role (lims.rules): what it reads are analysis results.
READ_TARGET = "jobs.analysisresult"
FORM_ROWS = 3
BY_CHOICES = (
    ("samples", "ancestor samples (codes)"),
    ("recipe", "products of a recipe (id, family or family@version)"),
    ("coating", "products of coatings with this formula"),
    ("coating_wt_percent", "products of batches with this coating wt%"),
    ("calcination_temperature_c", "products of batches calcined at (°C)"),
    ("batch", "the product of a batch (code)"),
    ("operator", "products of batches by (username)"),
    ("selector", "a selector as typed (terms joined by ;)"),
)


def read_required(view):
    """GET only, signed in, with a role (lims.rules: 403 with its sentence otherwise)."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        rules.require(request.user, "read", READ_TARGET)
        return view(request, *args, **kwargs)

    return require_GET(login_required(checked))


def builder_groups(query: QueryDict) -> list[str] | None:
    """`Name:selector` texts from the form's rows (name, by, value); None without a form."""
    if "name" not in query:
        return None
    texts = []
    rows = zip_longest(query.getlist("name"), query.getlist("by"), query.getlist("value"))
    for name, by, value in rows:
        name, by, value = (name or "").strip(), (by or "samples"), (value or "").strip()
        if not name and not value:
            continue
        if by == "samples":
            selector = ",".join(c for c in re.split(r"[\s,;]+", value) if c)
        elif by == "selector":
            selector = value
        else:
            selector = f"{by}={value}" if value else ""
        texts.append(f"{name}:{selector}")
    return texts


def form_rows(texts: list[str]) -> list[dict[str, str]]:
    """The form's rows for the groups shown (a group it cannot read: as typed), plus blanks."""
    rows = []
    for text in texts:
        try:
            spec = study.parse_group(text)
        except study.StudyInputError:
            name, _, selector = text.partition(":")
            rows.append({"name": name.strip(), "by": "selector", "value": selector.strip()})
            continue
        if spec.codes:
            rows.append({"name": spec.name, "by": "samples", "value": " ".join(spec.codes)})
        elif len(spec.terms) == 1:
            rows.append({"name": spec.name, "by": spec.terms[0][0], "value": spec.terms[0][1]})
        else:
            rows.append({"name": spec.name, "by": "selector", "value": spec.selector})
    blanks = max(FORM_ROWS - len(rows), 1)
    return rows + [{"name": "", "by": "samples", "value": ""} for _ in range(blanks)]


def _groups_query(texts: list[str]) -> str:
    return urlencode([("group", text) for text in texts])


@read_required
def study_page(request: HttpRequest) -> HttpResponse:
    built = builder_groups(request.GET)
    if built is not None:
        return redirect(f"{reverse('study:index')}?{_groups_query(built)}")
    texts = [t for t in request.GET.getlist("group") if t.strip()]
    context = {
        "syntax": study.SYNTAX,
        "by_choices": BY_CHOICES,
        "choices": study_queries.group_choices(),
        "rows": form_rows(texts),
        "query": _groups_query(texts),
    }
    status = 200
    if texts:
        try:
            context["table"] = study_queries.table_data(study_queries.study_table(texts))
        except study.StudyInputError as exc:
            context["errors"], status = exc.messages, 400
    return render(request, "characterization/study.html", context, status=status)


# --- export ------------------------------------------------------------------------------------


@read_required
def study_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The table as CSV or Parquet (one row per metric, per group mean, sd, n, min, max and the
    results behind), or as a workbook with that sheet, one row per sample value, and the
    left-out."""
    downloads.fmt_or_404(fmt)
    try:
        data = study_queries.table_data(study_queries.study_table(request.GET.getlist("group")))
    except study.StudyInputError as exc:
        return HttpResponse(
            "\n".join(exc.messages), status=400, content_type="text/plain; charset=utf-8"
        )
    more = [("values", *values_table(data)), ("left out", *left_out_table(data))]
    return downloads.table_response(
        fmt, *wide_table(data), stem=f"kiln-study-{datetime.date.today():%Y-%m-%d}",
        title="study", more_sheets=more if fmt == "xlsx" else (), stream=False,
    )  # fmt: skip


def _sources(results: list[dict]) -> str:
    return " ".join(dict.fromkeys(f"{r['source']}:{r['id']}" for r in results))


def wide_table(data: dict) -> tuple[list[str], list[list[object]]]:
    header = ["section", "metric", "unit", "range unit"]
    for group in data["groups"]:
        header += [f"{group['name']} {c}" for c in ("mean", "sd", "n", "min", "max", "results")]
    rows = []
    for row in data["rows"]:
        line = [row["section"], row["label"], row["unit"], row["range_unit"]]
        for cell in row["cells"]:
            results = [r for value in cell["values"] for r in value["results"]]
            line += [cell["mean"], cell["sd"], cell["n"], cell["min"], cell["max"]]
            line.append(_sources(results))
        rows.append(line)
    return header, rows


def values_table(data: dict) -> tuple[list[str], list[list[object]]]:
    header = ["group", "section", "metric", "unit", "sample", "value", "results"]
    rows = [
        [cell["group"], row["section"], row["label"], row["unit"], value["subject"],
         value["value"], _sources(value["results"])]
        for row in data["rows"]
        for cell in row["cells"]
        for value in cell["values"]
    ]  # fmt: skip
    return header, rows


def left_out_table(data: dict) -> tuple[list[str], list[list[object]]]:
    header = ["group", "sample", "result", "analysis", "measurement", "left out of", "why"]
    rows = [
        [item["group"], item["subject"], _sources([item["result"]]), item["result"]["kind"],
         item["result"]["measurement"], "; ".join(item["metrics"]),
         " | ".join(f"{r['code']}: {r['message']}" for r in item["reasons"])]
        for item in data["left_out"]
    ]  # fmt: skip
    return header, rows
