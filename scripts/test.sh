#!/usr/bin/env bash
# Run every UnionCase test on a dedicated test site (database unioncase_test) on real MariaDB and Redis.
# Extra arguments go to pytest, e.g. scripts/test.sh -k permission -x
# UNIONCASE_TEST_DB, UNIONCASE_TEST_REDIS (an even Redis database number) and UNIONCASE_TEST_PORT let two
# checkouts on one machine test side by side.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

prepare_machine
echo "Linting"
(cd "$REPO_ROOT" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .) || {
	echo "ruff found problems (run: .venv/bin/ruff check --fix . && .venv/bin/ruff format .)" >&2
	exit 1
}
TEST_DB="${UNIONCASE_TEST_DB:-unioncase_test}"
echo "Preparing test site $TEST_DB"
site ensure test "$TEST_DB" "${UNIONCASE_TEST_REDIS:-2}" "${UNIONCASE_TEST_PORT:-8011}"
echo "Preparing the Desk's assets for the browser tests"
ensure_desk_assets
link_desk_assets "$REPO_ROOT/sites/test"
ensure_browser_test_tools
cd "$REPO_ROOT"
exec "$PY" -m pytest "$@"
