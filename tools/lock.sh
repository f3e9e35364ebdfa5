#!/usr/bin/env bash
# The lock files, from pyproject.toml: requirements/runtime.txt (the dependencies, and the build
# backend of requirements/build.in) and requirements/dev.txt (those at the same versions, plus the
# dev extra). Universal (every OS, Python 3.11 and newer) and with the hash of every file.
# Usage: tools/lock.sh              keep every pin pyproject.toml still allows; add what is new
#        tools/lock.sh --upgrade    every pin to the newest release pyproject.toml allows
#        tools/lock.sh -P NAME      only NAME (any other `uv pip compile` option passes through)
# Then `make test`, and commit pyproject.toml with requirements/. Only this script needs uv (a
# pinned version, so everyone writes the same files); installing needs nothing but pip.
set -euo pipefail
cd "$(dirname "$0")/.."
uv_version=0.13.10
uv=.venv/bin/uv
case "$("$uv" --version 2>/dev/null)" in
    "uv $uv_version" | "uv $uv_version "*) ;;
    *)
        test -x .venv/bin/python || "${PYTHON:-python3}" -m venv .venv
        .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
        ;;
esac

# lock OUTPUT [uv pip compile arguments…]
lock() {
    local output=$1
    shift
    "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-header \
        --output-file "$output" "$@"
    {
        echo "# $output: made by tools/lock.sh (uv $uv_version) from pyproject.toml; do not edit."
        echo "# Regenerate: tools/lock.sh (make lock); upgrade every pin: tools/lock.sh --upgrade"
        echo "# Install: pip install --require-hashes -r $output, then the project itself:"
        echo "#          pip install --no-deps --no-build-isolation -e ."
        cat "$output"
    } >"$output.tmp"
    mv "$output.tmp" "$output"
}

lock requirements/runtime.txt pyproject.toml requirements/build.in "$@"
# The dev lock is held to the runtime lock's versions: tests run what production runs.
lock requirements/dev.txt pyproject.toml requirements/build.in --extra dev \
    --constraints requirements/runtime.txt "$@"
