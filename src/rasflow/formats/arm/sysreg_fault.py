"""System registers the machine model needs that the RAS codecs did not declare:
HPFAR_EL2 (the faulting IPA of an abort taken to EL2) and the RAS record selection
registers ERRIDR_EL1 / ERRSELR_EL1 (Arm ARM DDI0487, D24.2 and the reference sheet).
"""

from __future__ import annotations

from .register import Register

HPFAR_EL2 = Register("HPFAR_EL2", [("NS", 63, 63), ("FIPA", 47, 4)])
"""HPFAR_EL2: FIPA holds IPA[55:12] (FEAT_D128 width; IPA[51:12] in bits 43:4 otherwise)."""

ERRIDR_EL1 = Register("ERRIDR_EL1", [("NUM", 15, 0)])
"""ERRIDR_EL1.NUM: how many error records ERRSELR_EL1 can select."""

ERRSELR_EL1 = Register("ERRSELR_EL1", [("SEL", 15, 0)])
"""ERRSELR_EL1.SEL: the record ERX*_EL1 accesses."""
