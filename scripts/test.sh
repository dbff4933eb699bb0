#!/usr/bin/env bash
# Run every UnionCase test on a dedicated test site (database unioncase_test) on real MariaDB and Redis.
# Extra arguments go to pytest, e.g. scripts/test.sh -k permission -x
set -euo pipefail
source "$(dirname "$0")/lib.sh"

prepare_machine
echo "Linting"
(cd "$REPO_ROOT" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .) || {
	echo "ruff found problems (run: .venv/bin/ruff check --fix . && .venv/bin/ruff format .)" >&2
	exit 1
}
echo "Preparing test site unioncase_test"
site ensure test unioncase_test 2 8011
cd "$REPO_ROOT"
exec "$PY" -m pytest "$@"
