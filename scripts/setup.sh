#!/usr/bin/env bash
# Set up and run UnionCase on its embedded default: local MariaDB and Redis, demo data,
# the API and worker pages on http://127.0.0.1:8000, a background worker and the scheduler.
# Safe to run again: it installs only what is missing and restarts the processes.
# `bash scripts/setup.sh stop` stops the web server, the worker and the scheduler (safe to run twice).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SITE=dev
DB_NAME="${UNIONCASE_DB:-unioncase}"
PORT="${UNIONCASE_PORT:-8000}"
# Redis databases REDIS (cache) and REDIS + 1 (queue) of the local Redis on 6379.
REDIS_DB="${UNIONCASE_REDIS:-0}"
SITE_DIR="$REPO_ROOT/sites/$SITE"
DEMO_CASES="${UNIONCASE_DEMO_CASES:-20000}"

PROCESSES=(web worker schedule)

stop_processes() {
	# Each process was started in a session of its own: stop the whole group, then wait for it to go.
	local process pid_file pid
	for process in "${PROCESSES[@]}"; do
		pid_file="$SITE_DIR/pids/$process.pid"
		[ -f "$pid_file" ] || continue
		pid="$(cat "$pid_file")"
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
			for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			kill -KILL -- "-$pid" 2>/dev/null || true
			echo "Stopped $process (pid $pid)"
		fi
		rm -f "$pid_file"
	done
}

start_processes() {
	# The web tier as on a production bench (gunicorn, see runtime/README.md), one worker, the scheduler.
	stop_processes
	mkdir -p "$SITE_DIR/pids" "$SITE_DIR/../logs"
	cd "$SITE_DIR"
	setsid "$PY" -m monoframe_compat.site web --site-dir "$SITE_DIR" >"../logs/web.log" 2>&1 &
	echo $! >pids/web.pid
	setsid "$VENV/bin/monoframe" worker >"../logs/worker.log" 2>&1 &
	echo $! >pids/worker.pid
	setsid "$VENV/bin/monoframe" schedule >"../logs/schedule.log" 2>&1 &
	echo $! >pids/schedule.pid
	cd "$REPO_ROOT"
	echo "Starting the web server, the worker and the scheduler"
	local process
	for _ in $(seq 120); do
		process_alive web && process_alive worker && process_alive schedule && break
		sleep 0.5
	done
	for process in "${PROCESSES[@]}"; do
		process_alive "$process" || {
			echo "The $process process did not start; the end of sites/logs/$process.log:" >&2
			tail -20 "$SITE_DIR/../logs/$process.log" >&2
			exit 1
		}
	done
	echo "Running: web server (gunicorn) on port $PORT, worker, scheduler"
}

process_alive() {
	# web: answers ping; worker: registered with the site's queue; schedule: holds the scheduler lock.
	local pid
	pid="$(cat "$SITE_DIR/pids/$1.pid")"
	kill -0 "$pid" 2>/dev/null || return 1
	case "$1" in
	web) [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/method/ping")" = 200 ] ;;
	worker)
		local worker
		for worker in $(redis-cli -n "$((REDIS_DB + 1))" smembers rq:workers); do
			[ "$(redis-cli -n "$((REDIS_DB + 1))" hget "$worker" pid)" = "$pid" ] && return 0
		done
		return 1
		;;
	schedule) ! flock -n "$SITE_DIR/config/scheduler_process" true 2>/dev/null ;;
	esac
}

if [ "${1:-}" = "stop" ]; then
	stop_processes
	echo "UnionCase's servers for sites/$SITE are stopped."
	exit 0
fi

prepare_machine
echo "Preparing site $DB_NAME (install on first run, migrate after)"
site ensure "$SITE" "$DB_NAME" "$REDIS_DB" "$PORT" --admin-password "${UNIONCASE_ADMIN_PASSWORD:-admin}"
echo "Loading demo data ($DEMO_CASES cases; kept if already there)"
site execute "$SITE" "$DB_NAME" "$REDIS_DB" "$PORT" unioncase.demo.generator.make_demo --kwargs "{\"cases\": $DEMO_CASES}"

echo "Preparing the Desk's assets"
ensure_desk_assets
link_desk_assets "$SITE_DIR"

start_processes
cat <<MSG

UnionCase is running on http://127.0.0.1:$PORT (Administrator / ${UNIONCASE_ADMIN_PASSWORD:-admin}).
Logs are in sites/logs/; stop the servers with: bash scripts/setup.sh stop
Open the Desk at http://127.0.0.1:$PORT/app as a demo official (branch.bogor@demo.unioncase.org /
demo-password-2026) or as Administrator. The REST API answers too, e.g. as a branch official:
  curl -s -c /tmp/uc -X POST http://127.0.0.1:$PORT/api/method/login -H 'Content-Type: application/json' \\
    -d '{"usr": "branch.bogor@demo.unioncase.org", "pwd": "demo-password-2026"}'
  curl -g -s -b /tmp/uc 'http://127.0.0.1:$PORT/api/resource/Grievance?fields=["name","subject","owning_union"]'
MSG
