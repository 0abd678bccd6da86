"""The trace: the model's main output. One event per crossing of a layer boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any, NamedTuple


class TraceEvent(NamedTuple):
    time: int  # ns
    component: str
    name: str
    fields: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"t": self.time, "c": self.component, "e": self.name, **self.fields},
                          sort_keys=False, separators=(",", ":"), default=_jsonable)


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "to_dict"):
        return v.to_dict()
    return str(v)


_new_event = tuple.__new__  # a NamedTuple without its Python-level __new__: emit is hot


class Trace:
    """An append-only list of TraceEvents, optionally streamed to a JSON Lines file."""

    def __init__(self, sink: IO[str] | None = None, *, keep: bool = True):
        self.events: list[TraceEvent] = []
        self.sink = sink
        self.keep = keep
        self.count = 0
        self.busy = 0  # ns of costed work done so far (Engine.spend): added to every stamp

    def emit(self, time: int, component: str, name: str, fields: dict[str, Any]) -> None:
        """One event at engine time ``time``; it is stamped ``time`` + the work done so far."""
        self.count += 1
        if self.keep or self.sink is not None:
            event = _new_event(TraceEvent, (time + self.busy, component, name, fields))
            if self.keep:
                self.events.append(event)
            if self.sink is not None:
                self.sink.write(event.to_json() + "\n")

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def named(self, name: str) -> list[TraceEvent]:
        return [e for e in self.events if e.name == name]

    def to_jsonl(self) -> str:
        return "".join(e.to_json() + "\n" for e in self.events)
