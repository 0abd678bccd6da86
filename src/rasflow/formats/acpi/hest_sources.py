"""HEST error source structures, one layout per type (include/acpi/actbl1.h).

Nested structs are flattened in wire order. The common ``struct acpi_hest_header``
and ``struct acpi_hest_aer_common`` members keep their own names (``type``,
``source_id``, ``bus``); the named members ``error_status_address``,
``read_ack_register`` (GAS) and ``notify`` are prefixed with the member name,
so ``error_status_address.address`` is the field ``error_status_address_address``.
Properties give the nested views back: ``src.error_status_address.address``,
``src.notify.type``.

IA-32 machine-check sources end in ``num_hardware_banks`` error banks of 28
bytes: the ``banks`` tail holds them raw, ``error_banks`` decodes them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Bytes, Flags, Names, Tail, layout, u8, u16, u32, u64
from . import names as n
from .header import Gas, Problem

_type = Annotated[u16, Names(n.HEST_TYPES)]
_src_flags = Annotated[u8, Flags(n.HEST_SOURCE_FLAGS)]
_notify_type = Annotated[u8, Names(n.NOTIFY_TYPES)]
_cwe = Annotated[u16, Flags(n.NOTIFY_CONFIG_WRITE)]
_space = Annotated[u8, Names(n.GAS_SPACE_IDS)]
_access = Annotated[u8, Names(n.GAS_ACCESS_WIDTHS)]


@layout
class HestNotify:
    """struct acpi_hest_notify (28 bytes): the Hardware Error Notification Structure."""

    type: _notify_type
    length: u8
    config_write_enable: _cwe
    poll_interval: u32
    vector: u32
    polling_threshold_value: u32
    polling_threshold_window: u32
    error_threshold_value: u32
    error_threshold_window: u32


@layout
class IaErrorBank:
    """struct acpi_hest_ia_error_bank (28 bytes)."""

    bank_number: u8
    clear_status_on_init: u8
    status_format: u8
    reserved: u8
    control_register: u32
    control_data: u64
    status_register: u32
    address_register: u32
    misc_register: u32


class _Source:
    """What every source layout shares: its type number and the nested views."""

    __slots__ = ()
    TYPE: ClassVar[int | None] = None

    @property
    def type_name(self) -> str:
        return n.name_of(n.HEST_TYPES, self.type)  # type: ignore[attr-defined]

    def check(self) -> list[Problem]:
        return []


def _prefixed(src, prefix: str, cls):
    return cls(*(getattr(src, f"{prefix}_{name}") for name in cls._fields))


class _Notified(_Source):
    __slots__ = ()

    @property
    def notify(self) -> HestNotify:
        return _prefixed(self, "notify", HestNotify)

    def check(self) -> list[Problem]:
        out = []
        if self.notify_length != n.HEST_NOTIFY_LENGTH:  # type: ignore[attr-defined]
            out.append(Problem(f"notify length {self.notify_length} is not {n.HEST_NOTIFY_LENGTH}", "notify_length"))  # type: ignore[attr-defined]
        if self.notify_type not in n.NOTIFY_TYPES:  # type: ignore[attr-defined]
            out.append(Problem(f"unknown notification type {self.notify_type}", "notify_type"))  # type: ignore[attr-defined]
        return out


class _Banked(_Source):
    __slots__ = ()

    @property
    def error_banks(self) -> tuple[IaErrorBank, ...]:
        raw = self.banks  # type: ignore[attr-defined]
        return tuple(IaErrorBank.decode(raw, i) for i in range(0, len(raw) - len(raw) % 28, 28))

    def check(self) -> list[Problem]:
        out = super().check()
        want = self.num_hardware_banks * n.IA_ERROR_BANK_SIZE  # type: ignore[attr-defined]
        if len(self.banks) != want:  # type: ignore[attr-defined]
            out.append(Problem(f"num_hardware_banks {self.num_hardware_banks} needs {want} bytes of banks, have {len(self.banks)}", "banks"))  # type: ignore[attr-defined]
        return out


@layout
class IaMachineCheck(_Banked):
    """struct acpi_hest_ia_machine_check (type 0): 40 bytes + 28 per bank."""

    TYPE: ClassVar[int] = 0
    type: _type
    source_id: u16
    reserved1: u16
    flags: _src_flags
    enabled: u8
    records_to_preallocate: u32
    max_sections_per_record: u32
    global_capability_data: u64
    global_control_data: u64
    num_hardware_banks: u8
    reserved3: Bytes[7]
    banks: Tail


@layout
class IaCorrected(_Banked, _Notified):
    """struct acpi_hest_ia_corrected (type 1): 48 bytes + 28 per bank."""

    TYPE: ClassVar[int] = 1
    type: _type
    source_id: u16
    reserved1: u16
    flags: _src_flags
    enabled: u8
    records_to_preallocate: u32
    max_sections_per_record: u32
    notify_type: _notify_type
    notify_length: u8
    notify_config_write_enable: _cwe
    notify_poll_interval: u32
    notify_vector: u32
    notify_polling_threshold_value: u32
    notify_polling_threshold_window: u32
    notify_error_threshold_value: u32
    notify_error_threshold_window: u32
    num_hardware_banks: u8
    reserved2: Bytes[3]
    banks: Tail


@layout
class IaNmi(_Source):
    """struct acpi_hest_ia_nmi (type 2): 20 bytes."""

    TYPE: ClassVar[int] = 2
    type: _type
    source_id: u16
    reserved: u32
    records_to_preallocate: u32
    max_sections_per_record: u32
    max_raw_data_length: u32


@layout
class AerEndpoint(_Source):
    """struct acpi_hest_aer (type 7): header + acpi_hest_aer_common, 44 bytes."""

    TYPE: ClassVar[int] = 7
    type: _type
    source_id: u16
    reserved1: u16
    flags: _src_flags
    enabled: u8
    records_to_preallocate: u32
    max_sections_per_record: u32
    bus: u32
    device: u16
    function: u16
    device_control: u16
    reserved2: u16
    uncorrectable_mask: u32
    uncorrectable_severity: u32
    correctable_mask: u32
    advanced_capabilities: u32


@layout
class AerRootPort(AerEndpoint):
    """struct acpi_hest_aer_root (type 6): header + acpi_hest_aer_common + root_error_command, 48 bytes."""

    TYPE: ClassVar[int] = 6
    root_error_command: u32


@layout
class AerBridge(AerEndpoint):
    """struct acpi_hest_aer_bridge (type 8): header + acpi_hest_aer_common + 3 bridge registers, 56 bytes."""

    TYPE: ClassVar[int] = 8
    uncorrectable_mask2: u32
    uncorrectable_severity2: u32
    advanced_capabilities2: u32


class _Generic(_Notified):
    __slots__ = ()

    @property
    def error_status_address(self) -> Gas:
        return _prefixed(self, "error_status_address", Gas)

    def check(self) -> list[Problem]:
        out = super().check()
        out += [p.within("error_status_address") for p in self.error_status_address.check()]
        if self.error_block_length > n.GHES_ESTATUS_MAX_SIZE:  # type: ignore[attr-defined]
            out.append(Problem(f"Error status block length is too long: {self.error_block_length}", "error_block_length"))  # type: ignore[attr-defined]
        if self.error_block_length < 20:  # type: ignore[attr-defined]
            out.append(Problem(f"error_block_length {self.error_block_length} cannot hold a 20-byte status block", "error_block_length"))  # type: ignore[attr-defined]
        return out


@layout
class Ghes(_Generic):
    """struct acpi_hest_generic (type 9): 64 bytes."""

    TYPE: ClassVar[int] = 9
    type: _type
    source_id: u16
    related_source_id: u16
    reserved: u8
    enabled: u8
    records_to_preallocate: u32
    max_sections_per_record: u32
    max_raw_data_length: u32
    error_status_address_space_id: _space
    error_status_address_bit_width: u8
    error_status_address_bit_offset: u8
    error_status_address_access_width: _access
    error_status_address_address: u64
    notify_type: _notify_type
    notify_length: u8
    notify_config_write_enable: _cwe
    notify_poll_interval: u32
    notify_vector: u32
    notify_polling_threshold_value: u32
    notify_polling_threshold_window: u32
    notify_error_threshold_value: u32
    notify_error_threshold_window: u32
    error_block_length: u32


@layout
class GhesV2(Ghes):
    """struct acpi_hest_generic_v2 (type 10): 92 bytes, struct acpi_hest_generic then the
    read-ack register; error status GAS at +20, read ack GAS at +64."""

    TYPE: ClassVar[int] = 10
    read_ack_register_space_id: _space
    read_ack_register_bit_width: u8
    read_ack_register_bit_offset: u8
    read_ack_register_access_width: _access
    read_ack_register_address: u64
    read_ack_preserve: u64
    read_ack_write: u64

    @property
    def read_ack_register(self) -> Gas:
        return _prefixed(self, "read_ack_register", Gas)

    def check(self) -> list[Problem]:
        return _Generic.check(self) + [p.within("read_ack_register") for p in self.read_ack_register.check()]


@layout
class IaDeferredCheck(IaCorrected):
    """struct acpi_hest_ia_deferred_check (type 11): laid out as the corrected source, 48 bytes + 28 per bank."""

    TYPE: ClassVar[int] = 11


@layout
class UnknownSource(_Source):
    """A source of a type the ACPI spec does not size (3-5, 12+): header and the rest of the table raw.

    Like the kernel's apei_hest_parse() (which stops with -EINVAL), nothing after
    it can be located, so ``body`` runs to the end of the table.
    """

    type: _type
    source_id: u16
    body: Tail


SOURCE_TYPES: dict[int, type] = {
    0: IaMachineCheck,
    1: IaCorrected,
    2: IaNmi,
    6: AerRootPort,
    7: AerEndpoint,
    8: AerBridge,
    9: Ghes,
    10: GhesV2,
    11: IaDeferredCheck,
}

HestSource = IaMachineCheck | IaCorrected | IaNmi | AerRootPort | AerEndpoint | AerBridge | Ghes | GhesV2 | IaDeferredCheck | UnknownSource


def field_offset(cls, name: str) -> int:
    """Byte offset of field ``name`` inside layout ``cls``."""
    return next(f.offset for f in cls._fields_info if f.name == name)


BANKS_AT = {cls: field_offset(cls, "num_hardware_banks") for cls in (IaMachineCheck, IaCorrected, IaDeferredCheck)}

assert IaMachineCheck.SIZE == 40 and IaCorrected.SIZE == 48 and IaNmi.SIZE == 20
assert (AerRootPort.SIZE, AerEndpoint.SIZE, AerBridge.SIZE) == (48, 44, 56)
assert Ghes.SIZE == 64 and GhesV2.SIZE == 92 and IaDeferredCheck.SIZE == 48 and HestNotify.SIZE == 28
assert field_offset(GhesV2, "error_status_address_space_id") == 20
assert field_offset(GhesV2, "read_ack_register_space_id") == 64
