# Sourced by run.sh and test.sh: make sure .venv exists and holds this checkout's dependencies.
# Usage: bootstrap_venv EXTRAS   (EXTRAS is "" for running, "dev" for the tests)
bootstrap_venv() {
    local extras=$1 root python stamp spec
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    python=${PYTHON:-python3}
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Python 3.11 or newer is needed (tried '$python'; set PYTHON=/path/to/python3.11)." >&2
        exit 1
    fi
    if [ ! -x "$root/.venv/bin/python" ]; then
        echo "Creating the virtual environment in .venv ..." >&2
        "$python" -m venv "$root/.venv" || exit 1
    fi
    stamp="$root/.venv/.installed-$extras-$(cksum < "$root/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -e "$stamp" ]; then
        spec="$root"
        [ -n "$extras" ] && spec="$root[$extras]"
        echo "Installing dependencies into .venv (first run only) ..." >&2
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" \
            || exit 1
        rm -f "$root"/.venv/.installed-"$extras"-*
        touch "$stamp"
    fi
    VENV_BIN="$root/.venv/bin"
}
