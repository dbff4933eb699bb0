#!/usr/bin/env bash
# Set up and run UnionCase on its embedded default: local MariaDB and Redis, demo data,
# the API and worker pages on http://127.0.0.1:8000, a background worker and the scheduler.
# Safe to run again: it installs only what is missing and restarts the processes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SITE=dev
DB_NAME="${UNIONCASE_DB:-unioncase}"
PORT="${UNIONCASE_PORT:-8000}"
SITE_DIR="$REPO_ROOT/sites/$SITE"
DEMO_CASES="${UNIONCASE_DEMO_CASES:-20000}"

prepare_machine
echo "Preparing site $DB_NAME (install on first run, migrate after)"
site ensure "$SITE" "$DB_NAME" 0 "$PORT" --admin-password "${UNIONCASE_ADMIN_PASSWORD:-admin}"
echo "Loading demo data ($DEMO_CASES cases; kept if already there)"
site execute "$SITE" "$DB_NAME" 0 "$PORT" unioncase.demo.generator.make_demo --kwargs "{\"cases\": $DEMO_CASES}"

echo "Preparing the Desk's assets"
ensure_desk_assets
link_desk_assets "$SITE_DIR"

mkdir -p "$SITE_DIR/pids"
for process in web worker schedule; do
	pid_file="$SITE_DIR/pids/$process.pid"
	if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
		kill -- "-$(cat "$pid_file")" 2>/dev/null || kill "$(cat "$pid_file")" 2>/dev/null || true
	fi
done
sleep 1
cd "$SITE_DIR"
setsid "$VENV/bin/monoframe" start --host 127.0.0.1 --port "$PORT" --no-reload >"../logs/web.log" 2>&1 &
echo $! >pids/web.pid
setsid "$VENV/bin/monoframe" worker >"../logs/worker.log" 2>&1 &
echo $! >pids/worker.pid
setsid "$VENV/bin/monoframe" schedule >"../logs/schedule.log" 2>&1 &
echo $! >pids/schedule.pid

for _ in $(seq 60); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/api/method/ping" && break
	sleep 0.5
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/api/method/ping" || { tail -20 ../logs/web.log; exit 1; }
cat <<MSG

UnionCase is running on http://127.0.0.1:$PORT (Administrator / ${UNIONCASE_ADMIN_PASSWORD:-admin}).
Logs are in sites/logs/; stop it with: kill \$(cat sites/$SITE/pids/*.pid)
Open the Desk at http://127.0.0.1:$PORT/app as a demo official (branch.bogor@demo.unioncase.org /
demo-password-2026) or as Administrator. The REST API answers too, e.g. as a branch official:
  curl -s -c /tmp/uc -X POST http://127.0.0.1:$PORT/api/method/login -H 'Content-Type: application/json' \\
    -d '{"usr": "branch.bogor@demo.unioncase.org", "pwd": "demo-password-2026"}'
  curl -g -s -b /tmp/uc 'http://127.0.0.1:$PORT/api/resource/Grievance?fields=["name","subject","owning_union"]'
MSG
