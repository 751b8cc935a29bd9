# Shared by run-tests, run-demo and bench: create .venv with the pinned
# Tryton 8.0 series and install this module in it (editable).
# ROOT: the project's directory, by default the parent of this script's
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VENV="${VENV:-$ROOT/.venv}"

ensure_venv() {
    local stamp="$VENV/.installed-$(cat "$ROOT/setup.py" "$ROOT/scripts/requirements.txt" | sha1sum | cut -c1-12)"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "=== Creating $VENV"
        python3 -m venv "$VENV"
    fi
    if [ ! -e "$stamp" ]; then
        echo "=== Installing dependencies in $VENV (once)"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -r "$ROOT/scripts/requirements.txt"
        "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}
