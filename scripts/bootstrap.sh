# Sourced by run.sh and test.sh: make sure .venv exists and holds this checkout's dependencies,
# installed from the lock files (requirements/*.txt, pinned with hashes; scripts/lock.py).
# Usage: bootstrap_venv EXTRAS   (EXTRAS is "" for running, "dev" for the tests)
bootstrap_venv() {
    local extras=$1 root python stamp lock
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    python=${PYTHON:-python3}
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Python 3.11 or newer is needed (tried '$python'; set PYTHON=/path/to/python3.11)." >&2
        exit 1
    fi
    lock="$root/requirements/main.txt"
    [ -n "$extras" ] && lock="$root/requirements/$extras.txt"
    if [ ! -f "$lock" ]; then
        echo "No lock file $lock (make it with: .venv/bin/python scripts/lock.py)." >&2
        exit 1
    fi
    if [ ! -x "$root/.venv/bin/python" ]; then
        echo "Creating the virtual environment in .venv ..." >&2
        "$python" -m venv "$root/.venv" || exit 1
    fi
    stamp="$root/.venv/.installed-$extras-$(cat "$root/pyproject.toml" "$lock" \
        "$root/requirements/build.txt" | cksum | cut -d' ' -f1)"
    if [ ! -e "$stamp" ]; then
        echo "Installing the locked dependencies into .venv (first run only) ..." >&2
        # the pins with their hashes, then this checkout itself (editable, nothing more)
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --require-hashes -r "$lock" -r "$root/requirements/build.txt" || exit 1
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps --no-build-isolation -e "$root" || exit 1
        rm -f "$root"/.venv/.installed-"$extras"-*
        touch "$stamp"
    fi
    VENV_BIN="$root/.venv/bin"
}
