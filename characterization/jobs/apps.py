import logging
import os

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class JobsConfig(AppConfig):
    """The analysis jobs of every measurement type (label "jobs"; its models keep the tables
    they had in the characterization app)."""

    name = "characterization.jobs"
    label = "jobs"
    verbose_name = "Analysis jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from characterization.analysis.kinds import register_builtin_kinds
        from characterization.analysis_test_kinds import ENV_FLAG, register_test_kinds
        from characterization.jobs import panels, tasks  # noqa: F401  (tasks: registers them)

        register_builtin_kinds()
        if os.environ.get(ENV_FLAG) == "1":
            register_test_kinds()
        panels.register_all()
        worker_ready.connect(_recover_jobs_at_worker_start, dispatch_uid="kiln-jobs-recover")


def _recover_jobs_at_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts takes back the jobs its previous life left running (same name)
    and sends the jobs the broker never received: through a task, not in the main process."""
    from characterization.jobs.sending import jobs_recover_send

    jobs_recover_send(restarted_worker=getattr(sender, "hostname", "") or "")
