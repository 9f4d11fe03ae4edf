import logging
import os

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class CharacterizationConfig(AppConfig):
    name = "characterization"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from characterization import cell_import, exports, panels
        from characterization.analysis_test_kinds import ENV_FLAG, register_test_kinds
        from lims import exports as lims_exports
        from lims import sample_import

        worker_ready.connect(_recover_jobs_at_worker_start, dispatch_uid="kiln-jobs-recover")
        panels.register_all()
        lims_exports.register_files(exports.raw_files)
        lims_exports.register_properties(exports.cell_properties)
        sample_import.register_kind_importer("cell", cell_import.CELL_IMPORTER)
        if os.environ.get(ENV_FLAG) == "1":
            register_test_kinds()


def _recover_jobs_at_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts takes back the jobs its previous life left running (same name)
    and sends the jobs the broker never received: through a task, not in the main process."""
    from characterization.tasks import jobs_recover

    hostname = getattr(sender, "hostname", "") or ""
    try:
        jobs_recover.apply_async(kwargs={"restarted_worker": hostname}, retry=False)
    except Exception as exc:  # the broker just went away again; beat sends it within a minute
        logger.warning("could not send jobs_recover at worker start: %s", exc)
