"""rasflow: follow an Arm64 firmware-first RAS error from the silicon to the process it hurts."""

__version__ = "0.1.0"
