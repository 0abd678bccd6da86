"""Sizes, times and addresses in scenario files."""

import pytest

from rasflow.scenario.units import format_size, format_time, parse_addr, parse_size, parse_time


@pytest.mark.parametrize(("text", "value"), [
    (4096, 4096), ("4096", 4096), ("64KiB", 64 << 10), ("4GiB", 4 << 30), ("1TiB", 1 << 40),
    ("512 MiB", 512 << 20), ("0.5KiB", 512), ("1_024B", 1024),
])
def test_sizes(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize(("text", "value"), [
    (10, 10), ("10ns", 10), ("250us", 250_000), ("250µs", 250_000), ("1ms", 1_000_000),
    ("2s", 2_000_000_000), ("1.5us", 1500), ("0", 0),
])
def test_times(text, value):
    assert parse_time(text) == value


@pytest.mark.parametrize(("text", "value"), [
    (0x40000000, 0x40000000), ("0x40000000", 0x40000000), ("0X1_000", 0x1000), (0, 0),
    ((1 << 64) - 1, (1 << 64) - 1),
])
def test_addresses(text, value):
    assert parse_addr(text) == value


@pytest.mark.parametrize(("parse", "text", "message"), [
    (parse_size, "4GB", "bad size '4GB': unknown unit 'GB'; units are B, KiB, MiB, GiB, TiB"),
    (parse_size, "lots", "bad size 'lots': use an integer number of bytes or a number with a "
                         "unit (B, KiB, MiB, GiB, TiB)"),
    (parse_size, -1, "size must not be negative, got -1"),
    (parse_size, 1.5, "size must be an integer number of bytes or a number with a unit "
                      "(B, KiB, MiB, GiB, TiB), got float 1.5"),
    (parse_size, True, "size must be an integer number of bytes or a number with a unit "
                       "(B, KiB, MiB, GiB, TiB), got bool True"),
    (parse_size, "0.3B", "bad size '0.3B': not a whole number of bytes"),
    (parse_time, "1min", "bad time '1min': unknown unit 'min'; units are ns, us, ms, s"),
    (parse_time, "1.0001ns", "bad time '1.0001ns': not a whole number of ns"),
    (parse_addr, "4096", "bad address '4096': use an integer or a '0x...' hex string"),
    (parse_addr, 1 << 64, "address 0x10000000000000000 is outside 0..2**64-1"),
    (parse_addr, -1, "address -0x1 is outside 0..2**64-1"),
])
def test_errors_say_what_is_allowed(parse, text, message):
    with pytest.raises(ValueError) as e:
        parse(text)
    assert str(e.value) == message


def test_format():
    assert format_size(64 << 10) == "64KiB"
    assert format_size(4096 + 1) == "4097B"
    assert format_size(0) == "0B"
    assert format_time(250_000) == "250us"
    assert format_time(1500) == "1500ns"
    assert parse_size(format_size(3 << 30)) == 3 << 30
    assert parse_time(format_time(7_000_000)) == 7_000_000
