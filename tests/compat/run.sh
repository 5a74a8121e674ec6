#!/usr/bin/env bash
# SDK compatibility matrix: run the instrumentor suites against older openai /
# anthropic releases, each set in its own virtualenv (.venv-compat-<set>).
#
#   bash tests/compat/run.sh                 # the default set(s): legacy
#   bash tests/compat/run.sh legacy previous floor
#   COMPAT_SETS="legacy previous" make compat
#
# A set is tests/compat/<set>.txt: pip requirement lines pinning the SDKs.
# The newest releases are covered by `make test` in .venv. Each venv is
# rebuilt only when pyproject.toml or the set's pins change. Extra pytest
# arguments can be passed in COMPAT_PYTEST_ARGS.
set -euo pipefail

# All in a function: bash reads a script as it runs, so an edit to this file
# during a run would otherwise change what the running copy executes.
main() {
    cd "$(dirname "$0")/../.."

    PYTHON=${PYTHON:-python3}
    SETS=("$@")
    if [ ${#SETS[@]} -eq 0 ]; then
        read -r -a SETS <<<"${COMPAT_SETS:-legacy}"
    fi
    # The suites that exercise the SDKs; missing ones (not written yet) are skipped.
    SUITES=()
    for d in tests/instrumentors tests/compat; do
        [ -d "$d" ] && SUITES+=("$d")
    done

    status=0
    summary=()
    for set in "${SETS[@]}"; do
        pins="tests/compat/$set.txt"
        if [ ! -f "$pins" ]; then
            echo "compat: unknown set '$set' (no $pins)" >&2
            exit 2
        fi
        venv=".venv-compat-$set"
        stamp="$venv/.installed-$(cat pyproject.toml "$pins" | cksum | cut -d' ' -f1)"
        if [ ! -f "$stamp" ]; then
            echo "compat[$set]: building $venv"
            [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
            # The set's pins are constraints: one resolve, the old SDKs in place of the newest.
            "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]' -c "$pins"
            rm -f "$venv"/.installed-* && touch "$stamp"
        fi
        versions=$("$venv/bin/python" -c \
            'import openai, anthropic; print(f"openai {openai.__version__}, anthropic {anthropic.__version__}")')
        echo "compat[$set]: $versions"
        # -p no:cacheprovider: several venvs share the tree; keep their caches out of it.
        set +e
        "$venv/bin/python" -m pytest -p no:cacheprovider ${COMPAT_PYTEST_ARGS:-} "${SUITES[@]}"
        rc=$?
        set -e
        if [ $rc -eq 5 ]; then
            echo "compat[$set]: no tests collected" >&2
            rc=0
        fi
        summary+=("compat[$set] ($versions): $([ $rc -eq 0 ] && echo ok || echo "FAILED (pytest exit $rc)")")
        [ $rc -eq 0 ] || status=1
    done
    printf '%s\n' "${summary[@]}"
    return $status
}

main "$@"
