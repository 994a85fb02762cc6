#!/usr/bin/env bash
# Run the whole test suite (SQLite, plus PostgreSQL when TEST_DATABASE_URL is set).
# Extra arguments go to pytest: ./test.sh -k about -x
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
bootstrap_venv dev
exec "$VENV_BIN/python" -m pytest "$@"
