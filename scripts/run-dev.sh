#!/usr/bin/env bash
# `make run`: migrate, load the demo data, then serve on 127.0.0.1:8000 with a Celery worker.
# Ctrl-C stops both. Without REDIS_URL the worker uses kombu's filesystem transport under var/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"
mkdir -p var
$PY manage.py migrate --noinput
echo "Demo data (re-running changes nothing):"
$PY manage.py load_demo

# Children get their own session: Ctrl-C reaches this script only, which stops them in order.
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping Kiln..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop EXIT
interrupted=0
trap "interrupted=1" INT TERM  # Ctrl-C is the normal way to stop

setsid .venv/bin/celery -A lims worker --beat --loglevel=INFO --concurrency=2 --hostname="kiln@%h" &
pids+=($!)
setsid $PY manage.py runserver 127.0.0.1:8000 &
pids+=($!)
echo "Kiln is on http://127.0.0.1:8000/  (Ctrl-C stops the web server and the worker)"
status=0
wait -n "${pids[@]}" || status=$?
# Ctrl-C is a clean stop; a server that died by itself is an error.
[ "$interrupted" = 1 ] && exit 0
echo "A Kiln process stopped unexpectedly (exit $status)." >&2
exit "$status"
