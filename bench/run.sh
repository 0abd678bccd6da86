#!/usr/bin/env bash
# Benchmarks and the long fuzz run (not part of CI's test command).
# Installs PyPI `cper` (a libcper binding, built from source against json-c) for the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! .venv/bin/python -c "import cper" 2>/dev/null; then
  if ! dpkg -s libjson-c-dev >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq libjson-c-dev pkg-config) || echo "could not install libjson-c-dev: no comparison"
  fi
  .venv/bin/pip install -q '.[bench]' || echo "could not build PyPI cper: no comparison"
fi
.venv/bin/python bench/bench_decode.py
.venv/bin/python bench/bench_hw_fw.py
.venv/bin/python bench/bench_flows.py
.venv/bin/python bench/bench_campaign.py
.venv/bin/python bench/bench_compare.py
RASFLOW_FUZZ_EXAMPLES=${RASFLOW_FUZZ_EXAMPLES:-100000} .venv/bin/python -m pytest -q -p no:cacheprovider tests/cper/test_fuzz.py

.venv/bin/python bench/fuzz_readers.py --inputs "${RASFLOW_FUZZ_READER_INPUTS:-1000000}"
