"""Simulated time, the event queue, the trace, and seeded randomness.

SimPy-sized: a heap of (time, priority, seq, callback), generator processes, integer
nanoseconds. The same inputs and seed give the same trace, byte for byte.
"""

from .core import Component, Engine, Event, Process, Timeout, one_collection_per_run
from .trace import Trace, TraceEvent

__all__ = ["Component", "Engine", "Event", "Process", "Timeout", "Trace", "TraceEvent",
           "one_collection_per_run"]
