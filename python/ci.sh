#!/usr/bin/env bash
# CI for the Python package (called by .ci/run after `cargo test`, which built the CLI the
# tests compare against; .ci/run's clippy step lints the extension crate with --workspace):
# `pip install ./python` into a venv under target/ (nothing installed system-wide), run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BARETPM_PY_VENV:-target/python-venv}
py=${PYTHON:-python3}

if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "installing python3-venv with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-venv python3-pip >/dev/null
fi
[ -x "$venv/bin/pip" ] || "$py" -m venv "$venv"
export PATH="$PWD/$venv/bin:$PATH"
pip install -q --disable-pip-version-check "maturin>=1.5,<2" "pytest>=7"
# The same build `pip install ./python` does (maturin backend, profile "python"), without a
# second download of maturin into an isolated build environment.
pip install -q --disable-pip-version-check --no-build-isolation ./python
python -c 'import baretpm, sys; print("baretpm", baretpm.__file__, "on Python", sys.version.split()[0])'

set +e
# The `pytest` script, from the repository root: `python -m pytest` inside python/ would put
# the source tree (which has no compiled extension) ahead of the installed package.
pytest -q -p no:cacheprovider python/tests
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  # pytest: no test collected. The suite is not optional: say so and fail.
  echo "python/ci.sh: pytest collected no tests in python/tests" >&2
  exit 1
fi
exit "$rc"
