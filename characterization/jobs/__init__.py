"""Analysis jobs: definitions, jobs and results of every measurement type (its own Django app,
label "jobs"; the tables keep their characterization_* names).

The life of a job (DESIGN.md "How data flows" 4-5), one module per step:

1. enqueue.job_enqueue snapshots what decides the numbers (spec.py: kind and parser version,
   cleaned parameters, input SHA-256, the cell's active mass and context) and hashes it into
   the cache key. A result with that key already stored: the job succeeds at once (reused).
   Otherwise the job is queued and its Celery message sent after the transaction commits
   (sending.py); with the broker down the upload still succeeds and the job waits.
2. run.analysis_job_run (called by the thin Celery task, tasks.py) claims the job with one
   conditional UPDATE and a fresh claim token, reads the file as the table kind its analysis
   declares (cache.py: Parquet by SHA-256 and table kind, else parsers.read_table), runs the
   analysis with progress on the row, stores the result once per cache key (results.py) and
   finishes with an UPDATE conditional on still holding the claim.
3. recovery.jobs_recover (beat every minute, and when a worker starts) takes back running jobs
   whose worker died and sends again what the broker never received or lost (delivery.py).

Besides: definitions.py (what a definition may hold; the table kind a measurement type gives,
so which definitions an upload starts), inputs.py (the files an analysis reads), seed.py,
errors.py, inspection.py (the first read of every stored file), outdated.py; the reads
(queries.py, presenting.py, result_warnings.py, compare.py); views.py, measurement_views.py,
downloads.py, forms.py, urls.py, admin.py, panels.py.
"""
