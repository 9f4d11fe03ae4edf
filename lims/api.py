"""Sample registry API: list with lineage-aware filters, one sample, and its lineage graph."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims.api_pagination import KilnCursorPagination
from lims.api_permissions import RulesPermission
from lims.api_sample_filters import sample_filterset
from lims.models import POWDER_KINDS, Sample
from lims.sample_queries import sample_by_code, sample_lineage, samples_list
from lims.stock import Stock
from lims.stock_queries import stocks_of


class SampleOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    project = serializers.CharField(source="project.code", default=None, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = ["code", "kind", "name", "formula", "status", "location", "owner", "project",
                  "created_at", "notes", "url", "voided_at", "void_reason"]  # fmt: skip

    def get_url(self, sample: Sample) -> str:
        return f"/samples/{sample.code}/"


class StockOut(serializers.Serializer):
    """A powder's stock in grams (lims.stock): initial (null: not tracked) - drawn + corrected."""

    initial_g = serializers.FloatField(allow_null=True)
    drawn_g = serializers.FloatField()
    corrected_g = serializers.FloatField()
    left_g = serializers.FloatField(allow_null=True)


#: the columns a listed sample is read from (`.values()`: no model instance per row)
ROW_FIELDS = ("id", "code", "kind", "name", "formula", "status", "location", "owner__username",
              "project__code", "created_at", "notes", "voided_at", "void_reason",
              "initial_mass_g")  # fmt: skip
UNTRACKED = Stock(None, 0.0, 0.0)


def iso_time(moment: datetime | None, zone) -> str | None:
    """DRF's rendering of a datetime (ISO 8601 in `zone`, UTC as "Z"), without its per-value
    look-ups of the time zone: a page renders 200 of them."""
    if moment is None:
        return None
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class SampleListOut(SampleOut):
    """A sample with its stock: for powders, and any sample whose amount is followed (null for
    the rest). Reads the rows of `sample_rows` + `with_stocks`: a page of 100 is built without
    a model instance or a field object per value, in two queries."""

    stock = serializers.SerializerMethodField()

    class Meta(SampleOut.Meta):
        fields = [*SampleOut.Meta.fields, "stock"]

    @extend_schema_field(StockOut(allow_null=True))
    def get_stock(self, row: dict) -> dict | None:
        stock = row["stock"]
        if not stock.tracked and row["kind"] not in POWDER_KINDS:
            return None
        return {"initial_g": stock.initial_g, "drawn_g": stock.drawn_g,
                "corrected_g": stock.corrected_g, "left_g": stock.left_g}  # fmt: skip

    def to_representation(self, row: dict) -> dict:
        zone = self.context.get("zone") or timezone.get_current_timezone()
        return {**sample_row_out(row, zone), "stock": self.get_stock(row)}


def sample_row_out(row: dict, zone) -> dict:
    """SampleOut's fields of a `sample_rows` row, without a serializer field per value."""
    return {
        "code": row["code"], "kind": row["kind"], "name": row["name"],
        "formula": row["formula"], "status": row["status"], "location": row["location"],
        "owner": row["owner__username"], "project": row["project__code"],
        "created_at": iso_time(row["created_at"], zone), "notes": row["notes"],
        "url": f"/samples/{row['code']}/", "voided_at": iso_time(row["voided_at"], zone),
        "void_reason": row["void_reason"],
    }  # fmt: skip


def sample_rows(queryset: QuerySet[Sample]) -> QuerySet:
    """`queryset` as the rows SampleListOut reads (with its owner's and project's names)."""
    return queryset.values(*ROW_FIELDS)


def with_stocks(rows: list[dict]) -> list[dict]:
    """Each row with its "stock" (lims.stock.Stock), in one query for the powders and the
    samples with an amount entered (no query for a page of cells: nothing there is tracked;
    a batch's yield is a powder's)."""
    tracked = [
        r["id"] for r in rows if r["kind"] in POWDER_KINDS or r["initial_mass_g"] is not None
    ]
    stocks = stocks_of(tracked)
    for row in rows:
        row["stock"] = stocks.get(row["id"], UNTRACKED)
    return rows


class SampleList(generics.ListAPIView):
    """Samples, newest first, a page at a time: follow `next` (a cursor: every page costs what
    the first costs, however deep). Each filter is a query parameter (lims.api_sample_filters:
    the registry's and every registered lineage filter); a bad value is a 400 naming it."""

    permission_classes = [RulesPermission]
    serializer_class = SampleListOut
    pagination_class = KilnCursorPagination
    queryset = Sample.objects.none()  # the model for the schema; the selector builds the rows

    @property
    def filterset_class(self):
        return sample_filterset()

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if not any(name in params for name in self.filterset_class.base_filters):
            return sample_rows(samples_list())  # no filter given: the live samples, as filtered
        return sample_rows(super().filter_queryset(queryset))

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "zone": timezone.get_current_timezone()}

    def paginate_queryset(self, queryset):
        return with_stocks(super().paginate_queryset(queryset))


class SampleDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = SampleListOut

    def get_object(self) -> dict:
        code = self.kwargs["code"]
        row = sample_rows(Sample.objects.filter(code__iexact=code)).first()
        if row is None:
            raise NotFound(f"no sample has the code {code!r}")
        return with_stocks([row])[0]


class SampleLineage(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(responses=dict)
    def get(self, request: Request, code: str) -> Response:
        """{"sample", "nodes": [sample + "generation"], "edges": [parent, child, role, ...]}"""
        sample = sample_by_code(code)
        if sample is None:
            raise NotFound(f"no sample has the code {code!r}")
        lineage = sample_lineage(sample)
        codes = {pk: s.code for pk, s in lineage.samples.items()}
        zone = timezone.get_current_timezone()
        rows = sample_rows(Sample.objects.filter(pk__in=list(lineage.generations)))
        rows = sorted(rows, key=lambda r: (lineage.generations[r["id"]], r["id"]))
        nodes = [{**sample_row_out(r, zone), "generation": lineage.generations[r["id"]]}
                 for r in rows]  # fmt: skip
        edges = [
            {"parent": codes[e.parent_id], "child": codes[e.child_id], "role": e.role,
             "amount": e.amount, "amount_unit": e.amount_unit}
            for e in lineage.edges
        ]  # fmt: skip
        return Response({"sample": sample.code, "nodes": nodes, "edges": edges})
