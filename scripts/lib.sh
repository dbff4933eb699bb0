# Shared by scripts/setup.sh and scripts/test.sh: make this machine able to run UnionCase.
# Every step checks first and does nothing when its work is already done, so both are safe to rerun.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO_ROOT/.venv}"
PY="$VENV/bin/python"
DEBIAN_PACKAGES=(libmariadb-dev pkg-config gcc python3-dev python3-venv mariadb-server mariadb-client redis-server redis-tools git curl wkhtmltopdf)

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_debian_packages() {
	local missing=()
	for package in "${DEBIAN_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
	done
	# Servers already running from elsewhere (a container image, another install) are fine as they are.
	if mariadb_answers; then missing=("${missing[@]/mariadb-server}"); fi
	if redis_answers; then missing=("${missing[@]/redis-server}"); fi
	missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
	if [ ${#missing[@]} -gt 0 ]; then
		echo "Installing Debian packages: ${missing[*]}"
		as_root apt-get update -qq
		DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

mariadb_answers() {
	(command -v mariadb-admin >/dev/null && mariadb-admin -uroot ping >/dev/null 2>&1) ||
		(command -v mysqladmin >/dev/null && mysqladmin -uroot ping >/dev/null 2>&1)
}

redis_answers() {
	command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]
}

ensure_services() {
	if ! mariadb_answers; then
		echo "Starting MariaDB"
		as_root service mariadb start >/dev/null 2>&1 ||
			as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
		for _ in $(seq 30); do mariadb_answers && break; sleep 1; done
	fi
	if ! redis_answers; then
		echo "Starting Redis"
		as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
		for _ in $(seq 30); do redis_answers && break; sleep 1; done
	fi
	mariadb_answers || { echo "MariaDB does not answer as root on this machine" >&2; exit 1; }
	redis_answers || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
}

find_python() {
	# monoframe needs Python 3.12 or newer (one of its modules uses 3.12 syntax).
	local candidate
	for candidate in python3.12 python3.13 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 python3; do
		if command -v "$candidate" >/dev/null 2>&1 &&
			"$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
			command -v "$candidate"
			return
		fi
	done
	echo "UnionCase needs Python 3.12 or newer (python3.12 on PATH, or pyenv)" >&2
	exit 1
}

ensure_venv() {
	local stamp="$VENV/.unioncase-requirements"
	local wanted
	wanted="$(cat "$REPO_ROOT/runtime/requirements.txt" "$REPO_ROOT/pyproject.toml" | sha1sum | cut -d' ' -f1)"
	if [ ! -x "$PY" ]; then
		"$(find_python)" -m venv "$VENV"
	fi
	if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
		echo "Installing Python packages into $VENV (about a minute)"
		"$PY" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
		"$PY" -m pip install -q -r "$REPO_ROOT/runtime/requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
		"$PY" -m pip install -q --no-deps -e "$REPO_ROOT" 2>&1 | grep -v "^WARNING: Location" || true
		"$PY" -c "import monoframe, unioncase" || { echo "Python packages did not install" >&2; exit 1; }
		echo "$wanted" >"$stamp"
	fi
	# The compatibility layer loads at interpreter start: app code never imports it.
	local site_packages
	site_packages="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
	printf '%s\nimport monoframe_compat; monoframe_compat.install()\n' "$REPO_ROOT/runtime" >"$site_packages/monoframe_compat.pth"
}

prepare_machine() {
	ensure_debian_packages
	ensure_services
	ensure_venv
}

# The framework logs every DocType, patch and fixture it syncs; setup shows the rest, as it happens.
SITE_NOISE='^Updating \|^Syncing \|^Removing \|^Creating \|^Executing \|^Flushing \|^Queued \|^Migrating \|^Running \|^$'

site() {
	# site COMMAND SITE_NAME DB_NAME REDIS_DB PORT [args...]: run monoframe_compat.site on one site folder.
	local command="$1" name="$2" db_name="$3" redis_db="$4" port="$5" log
	local -
	set -o pipefail
	shift 5
	log="$(mktemp)"
	# Line by line as the steps run (progress bars end their lines in \r); the whole log is kept for a failure.
	if ! (cd "$REPO_ROOT" && PYTHONUNBUFFERED=1 "$PY" -m monoframe_compat.site "$command" "$@" \
		--site-dir "sites/$name" --db-name "$db_name" --port "$port" \
		--redis-cache "redis://127.0.0.1:6379/$redis_db" \
		--redis-queue "redis://127.0.0.1:6379/$((redis_db + 1))") 2>&1 |
		tee "$log" | sed -u 's/\r/\n/g' | { grep --line-buffered -v "$SITE_NOISE" || true; }; then
		echo "--- the last lines of its log:" >&2
		tr '\r' '\n' <"$log" | grep -v "^Updating DocTypes" | tail -40 >&2
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}
