# Shared by scripts/setup.sh and scripts/test.sh: make this machine able to run UnionCase.
# Every step checks first and does nothing when its work is already done, so both are safe to rerun.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO_ROOT/.venv}"
PY="$VENV/bin/python"
DEBIAN_PACKAGES=(libmariadb-dev pkg-config gcc python3-dev python3-venv mariadb-server mariadb-client redis-server redis-tools git curl wkhtmltopdf chromium dovecot-imapd)

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

ensure_node() {
	# Node.js builds the Desk's assets and runs the JS side of the masking agreement test (tests fail without it).
	# Checked by command, not by package: a machine may have Node.js from elsewhere (NodeSource bundles npm).
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "Installing Debian packages: nodejs npm"
		as_root apt-get update -qq
		DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
	fi
}

prepare_machine() {
	ensure_debian_packages
	ensure_node
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

# --- The Desk's assets (runtime/desk): built once per change of sources or pins, linked into each site. ---
DESK_DIR="$REPO_ROOT/runtime/desk"
DESK_BUILD="$DESK_DIR/build"

monoframe_package() {
	"$PY" -c 'import os, monoframe; print(os.path.dirname(monoframe.__file__))'
}

desk_build_stamp() {
	# What the build depends on: the pins, the build script, and every source file of the runtime's public folder.
	local public="$1"
	{
		cat "$DESK_DIR/package.json" "$DESK_DIR/package-lock.json" "$DESK_DIR/build.mjs"
		(cd "$public" && find . -path ./node_modules -prune -o -type f -printf '%P %s %T@\n' | sort)
	} | sha1sum | cut -d' ' -f1
}

desk_manifest_is_complete() {
	# Every bundle the manifest names exists: otherwise the Desk would be half served.
	"$PY" - "$DESK_BUILD" <<'PY'
import json, os, sys
build = sys.argv[1]
try:
	manifest = json.load(open(os.path.join(build, "assets.json")))
except (OSError, ValueError):
	sys.exit(1)
prefix = "/assets/monoframe/"
ok = manifest and all(
	url.startswith(prefix) and os.path.isfile(os.path.join(build, "monoframe", url[len(prefix):]))
	for url in manifest.values()
)
sys.exit(0 if ok else 1)
PY
}

ensure_desk_assets() {
	command -v npm >/dev/null || { echo "The Desk's assets need Node.js 18+ and npm (apt-get install nodejs npm)" >&2; exit 1; }
	local public lock_stamp wanted
	public="$(monoframe_package)/public"
	lock_stamp="$(sha1sum "$DESK_DIR/package-lock.json" | cut -d' ' -f1)"
	if [ "$(cat "$DESK_DIR/node_modules/.unioncase-lock" 2>/dev/null)" != "$lock_stamp" ]; then
		echo "Installing the Desk's Node packages (npm ci in runtime/desk)"
		if ! (cd "$DESK_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
			echo "npm ci failed in runtime/desk: fix the error above, then run: (cd runtime/desk && npm ci) && bash $0" >&2
			exit 1
		fi
		echo "$lock_stamp" >"$DESK_DIR/node_modules/.unioncase-lock"
	fi
	wanted="$(desk_build_stamp "$public")"
	if [ "$(cat "$DESK_BUILD/.unioncase-build" 2>/dev/null)" != "$wanted" ] || ! desk_manifest_is_complete; then
		echo "Building the Desk's assets (runtime/desk/build.mjs)"
		rm -f "$DESK_BUILD/.unioncase-build"
		if ! node "$DESK_DIR/build.mjs" --public "$public" --out "$DESK_BUILD"; then
			echo "The Desk's asset build failed: fix the error above, then run: bash $0" >&2
			exit 1
		fi
		echo "$wanted" >"$DESK_BUILD/.unioncase-build"
	fi
	desk_manifest_is_complete || {
		echo "runtime/desk/build/assets.json names bundles that are missing: rm -rf runtime/desk/build && bash $0" >&2
		exit 1
	}
}

link_desk_assets() {
	# link_desk_assets SITE_DIR: the site's assets/ folder (the server's /assets), only asset folders in it.
	local site_dir="$1" package assets
	package="$(monoframe_package)"
	assets="$site_dir/assets"
	rm -rf "$assets"
	mkdir -p "$assets/monoframe/images" "$assets/monoframe/js" "$assets/monoframe/node_modules"
	ln -s "$DESK_BUILD/assets.json" "$assets/assets.json"
	ln -s "$DESK_BUILD/monoframe/dist" "$assets/monoframe/dist"
	for folder in css icons sounds; do ln -s "$package/public/$folder" "$assets/monoframe/$folder"; done
	ln -s "$package/public/js/lib" "$assets/monoframe/js/lib"
	ln -s "$DESK_DIR/node_modules/ace-builds" "$assets/monoframe/node_modules/ace-builds"
	local image
	for image in "$package"/public/images/*; do
		ln -s "$image" "$assets/monoframe/images/$(basename "$image")"
		# Templates name the logo and favicon monoframe-*.svg; the files are frappe-*.
		case "$(basename "$image")" in frappe-*) ln -s "$image" "$assets/monoframe/images/monoframe-$(basename "$image" | cut -d- -f2-)" ;; esac
	done
	# Some of the fork's templates still say /assets/frappe/... (the grid's empty-state image, for one).
	ln -s monoframe "$assets/frappe"
	# Each app's public folder at /assets/<app>/, as bench links them.
	ln -s "$REPO_ROOT/unioncase/public" "$assets/unioncase"
}

ensure_browser_test_tools() {
	# The browser tests drive Debian's chromium (in DEBIAN_PACKAGES) with Playwright's Python package;
	# `playwright install` downloads nothing here.
	"$PY" -c "import playwright" 2>/dev/null || {
		echo "Installing Playwright (Python) for the browser tests"
		"$PY" -m pip install -q "playwright==1.49.1" 2>&1 | grep -v "^WARNING: Location" || true
	}
}
