#!/usr/bin/env bash
# CPU instructions per guest-UE flow (bench_flows.flows), counted by callgrind: unlike the
# wall clock, the same from run to run, so it tells whether a change made the model cheaper.
# Usage: bash bench/flow_instructions.sh [N1 N2]  (two flow counts; their difference / N).
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-500} n2=${2:-1500}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python -c "
import sys; sys.path[:0] = ['bench', 'src']
from bench_flows import flows; flows(200); flows($1)" 2>&1 | sed -n 's/.*Collected : //p'
}
a=$(count "$n1"); b=$(count "$n2")
echo "instructions/flow: $(( (b - a) / (n2 - n1) ))"
