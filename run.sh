#!/usr/bin/env bash
# Run the bot: ./run.sh (same as ./run.sh run), or any tutorbot command: ./run.sh console
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
bootstrap_venv ""
exec "$VENV_BIN/tutorbot" "${@:-run}"
