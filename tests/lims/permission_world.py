"""A small lab for permission tests: one user per role and one record of each kind, every record
owned by the "owner" chemist (built through the services, as the pages do)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from rest_framework.authtoken.models import Token, TokenProxy

from characterization import services
from characterization.jobs import enqueue, seed
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import ChannelAssignment, InstrumentMapping
from lims.models import Project
from lims.services import heartbeat_record
from synthesis import queries
from synthesis import services as synthesis_services
from synthesis.planning import PlanInputs
from tests.characterization.factories import (
    CellFactory,
    ElectrodeFactory,
    MeasurementFactory,
    PowderFactory,
    upload,
)
from tests.lims.factories import UserFactory
from tests.synthesis.factories import make_chemicals, make_lots, make_nso, make_substrate

ROLES = ("anonymous", "none", "viewer", "owner", "other", "manager")
GROUP_OF = {"viewer": "viewer", "owner": "chemist", "other": "chemist", "manager": "lab-manager"}


@dataclass
class World:
    users: dict[str, object]  # role -> user (None for anonymous)
    records: dict[str, object] = field(default_factory=dict)  # "app.model" -> one record

    def __getitem__(self, label: str):
        return self.records[label]


def make_users() -> dict[str, object]:
    users = {"anonymous": None}
    names = {"none": "nadia", "viewer": "vera", "owner": "olga", "other": "otto", "manager": "mo"}
    for role, username in names.items():
        groups = [GROUP_OF[role]] if role in GROUP_OF else []
        users[role] = UserFactory(username=username, is_staff=True, groups=groups)
    return users


def make_world() -> World:
    """Every record the rules speak of, owned by users["owner"] (olga)."""
    users = make_users()
    owner, manager = users["owner"], users["manager"]
    world = World(users)
    chemicals = make_chemicals(manager)
    lots = make_lots(chemicals, manager)
    recipe = make_nso(chemicals, manager)
    substrate = make_substrate(owner)
    inputs = PlanInputs(
        substrate=substrate, substrate_mass_g=1.0, lots=queries.default_lots(recipe)
    )
    batch = synthesis_services.batch_create(user=owner, recipe=recipe, inputs=inputs)
    series = synthesis_services.series_create(
        user=owner, recipe=recipe, parameter="coating_wt_percent", values=[0.5, 1], inputs=inputs
    )
    powder = PowderFactory(owner=owner)
    electrode = ElectrodeFactory(active_material=powder, made_by=owner)
    cell = CellFactory(electrode=electrode, built_by=owner)
    measurement = MeasurementFactory(subject=cell.sample, operator=owner, uploads=[upload()])
    link = measurement.files.select_related("raw_file").get()
    seed.analysis_definitions_seed()
    definition = AnalysisDefinition.objects.get(kind="cycling_summary")
    job = enqueue.job_enqueue(
        definition=definition, measurement=measurement, raw_file=link.raw_file, user=owner
    )
    result = AnalysisResult.objects.create(
        cache_key="0" * 64, kind="cycling_summary", kind_version=1, parser_version="test"
    )
    AnalysisJob.objects.filter(pk=job.pk).update(result=result, status=JobStatus.SUCCEEDED)
    job.refresh_from_db()
    xrd = MeasurementFactory(subject=powder, operator=owner, measurement_type="rietveld")
    refinement = services.refinement_record(
        measurement=xrd, origin="transition_metal", a_angstrom=2.86, c_angstrom=14.25,
        z_oxygen=0.258, entered_by=owner,
    )  # fmt: skip
    mapping = InstrumentMapping.objects.create(
        name="Arbin CSV", instrument="Arbin BT2000", mapping={}, created_by=manager
    )
    world.records.update(
        {
            "lims.sample": powder,
            "lims.project": Project.objects.create(code="nso", name="Coated LMNO"),
            "lims.workerheartbeat": heartbeat_record(
                worker="w@test", token="t-1", received_at=batch.created_at
            ),
            "synthesis.recipe": recipe,
            "synthesis.batch": batch,
            "synthesis.series": series,
            "synthesis.chemical": chemicals["TEOS"],
            "synthesis.lot": lots["TEOS"],
            "characterization.electrode": electrode,
            "characterization.coincell": cell,
            "characterization.measurement": measurement,
            "characterization.measurementfile": link,
            "characterization.rawfile": link.raw_file,
            "characterization.refinementresult": refinement,
            "jobs.analysisdefinition": definition,
            "jobs.analysisjob": job,
            "jobs.analysisresult": result,
            "characterization.instrumentmapping": mapping,
            "characterization.channelassignment": ChannelAssignment.objects.create(
                source="neware-unit3",
                channel="unit3-ch5",
                cell=cell.sample,
                valid_from=batch.created_at,
                created_by=manager,
            ),
            "auth.user": users["owner"],
            "auth.group": users["owner"].groups.get(),
            "authtoken.tokenproxy": TokenProxy.objects.get(pk=Token.objects.create(user=owner).pk),
        }
    )
    world.records.update(_later_records(owner))
    return world


def _later_records(owner) -> dict[str, object]:
    """Records of models other parts of issue 9 add (kept optional while they land)."""
    found = {}
    try:
        transfer = apps.get_model("lims", "Transfer")
    except LookupError:
        return found
    found["lims.transfer"] = transfer.objects.create(
        kind="eln", requested_by=owner, title="CAT with its lineage (.eln)"
    )
    return found
