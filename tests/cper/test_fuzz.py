"""Fuzzing every CPER decoder: nothing but FormatError, whatever the bytes.

Random bytes and mutated vector bytes (bit flips, splices, truncations). CI runs a
few hundred examples; `bash bench/run.sh` runs RASFLOW_FUZZ_EXAMPLES (100,000).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError, cper
from rasflow.formats.render.kernel import bert_print
from vectors import vector_files

EXAMPLES = int(os.environ.get("RASFLOW_FUZZ_EXAMPLES", "300"))
SEEDS = [p.read_bytes() for p in vector_files("libcper/generated/*.cper")[::7]]
SEEDS += [p.read_bytes() for p in vector_files("kernel/*.estatus.bin")[::11]]
SEEDS += [p.read_bytes() for p in vector_files("kernel-edge/*.estatus.bin")]
if not SEEDS:
    mem = cper.memory.CperSecMemErr(validation_bits=2, physical_addr=0x1000)
    SEEDS = [cper.build_record([mem], error_severity=0).encode(), cper.build_estatus([mem], error_severity=0).encode()]

FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.integers(0, 3))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            data[i] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, 0x01]))
        elif op == 2:
            del data[i:]
        else:
            j = min(len(data), i + 4)
            data[i:j] = draw(st.binary(min_size=j - i, max_size=j - i))
    return bytes(data)


def _exercise(data: bytes) -> None:
    for lenient in (False, True):
        try:
            obj = cper.decode(data, lenient=lenient)
        except FormatError:
            continue
        assert cper.encode(obj) == data
        obj.check()
        obj.to_dict()
        try:
            cper.render_kernel(obj)
            cper.to_libcper(obj)
        except FormatError:
            pass
    bert_print(data)


@FUZZ
@given(mutated())
def test_mutated_vectors(data):
    _exercise(data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), st.binary(max_size=200).map(lambda b: b"CPER" + b)))
def test_random_bytes(data):
    _exercise(data)


@pytest.mark.parametrize("seed", range(min(len(SEEDS), 40)))
def test_every_prefix_of_a_seed(seed):
    data = SEEDS[seed]
    for n in range(0, len(data), max(1, len(data) // 64)):
        _exercise(data[:n])
