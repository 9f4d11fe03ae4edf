#!/usr/bin/env bash
# `make run`: write the development .env (once), migrate, load the demo data, then serve on
# 127.0.0.1:8000 with a Celery worker. Ctrl-C stops both. Without REDIS_URL the worker uses
# kombu's filesystem transport under var/. `make setup` (--setup-only) stops before serving.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"

# manage.py, the Celery app and wsgi read .env (lims/dotenv.py): the README's commands then
# work outside `make`. Written once, never overwritten; KILN_ENV_FILE names another file.
env_file="${KILN_ENV_FILE-.env}"
if [ -n "$env_file" ] && [ ! -e "$env_file" ]; then
  secret="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
  (
    umask 077
    cat >"$env_file" <<EOF
# Kiln's development settings, written once by "make run" and read by manage.py, the Celery
# worker and wsgi. Variables set in the environment win over these. Not for a lab server:
# there, set DEBUG=0 and a SECRET_KEY of its own (README, "A lab server").
DEBUG=1
SECRET_KEY=$secret
# DATABASE_URL unset: SQLite at var/kiln.sqlite3; REDIS_URL unset: the filesystem broker
# under var/broker/ (README, "Configuration").
EOF
  )
  echo "Wrote $env_file (DEBUG=1 and a new SECRET_KEY, for development)."
fi

mkdir -p "${KILN_VAR_DIR:-var}"
$PY manage.py migrate --noinput
echo "Demo data (re-running changes nothing):"
$PY manage.py load_demo
[ "${1:-}" = "--setup-only" ] && exit 0

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
