"""The result store: a directory of Parquet part files and a manifest.

Each part holds the rows of one index range and is named after it,
``part-<lo>-<hi>.parquet`` (``hi`` exclusive); it is written to a temporary name, synced and
renamed, so a part exists whole or not at all. Which rows are done is read from the names;
a crash loses only the parts not yet renamed. ``manifest.json`` holds the spec's digest
(a directory never mixes two specs) and the number of faults asked for.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from .row import COLUMNS
from .spec import Campaign

FORMAT = 2  # 2: the per-layer containment columns (row.BREAKDOWN)
SCHEMA = pa.schema([(name, pa.bool_() if kind == "bool" else getattr(pa, kind)())
                    for name, kind in COLUMNS.items()])
_PART = re.compile(r"part-(\d{12})-(\d{12})\.parquet")


class StoreError(ValueError):
    """A directory that cannot hold this campaign (one line)."""


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Store:
    """The campaign directory ``root``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._lock: int | None = None
        self.damaged: list[tuple[Path, str]] = []  # parts open() set aside

    def lock(self) -> None:
        """Take the directory for this run (an flock on ``.lock``, released when the process
        ends, however it ends): a second run on the same directory would remove the first
        one's unfinished parts and write its rows again, so it is refused, naming the run
        that holds the directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StoreError(f"{self.root} is in use by another campaign run (pid {holder}); "
                             "wait for it to end, or use another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    def unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise StoreError(f"{self.manifest_path}: unreadable manifest ({e})") from None

    def open(self, c: Campaign, faults: int) -> dict:
        """Create or reopen the directory for ``c``; remove temporary files of dead runs."""
        self.root.mkdir(parents=True, exist_ok=True)
        old = self.manifest()
        if old is not None and old.get("format", 1) != FORMAT:
            raise StoreError(f"{self.root} holds rows of format {old.get('format', 1)} (rasflow "
                             f"{old.get('rasflow', '?')}), this rasflow writes format {FORMAT}; use another --out")
        if old is not None and old.get("digest") != c.digest():
            raise StoreError(f"{self.root} holds results of another spec ({old.get('spec')}, "
                             f"digest {old.get('digest')}); use another --out")
        for stale in self.root.glob(".part-*.tmp-*"):
            stale.unlink()
        self.damaged = self.set_aside()
        m = {"format": FORMAT, "spec": c.name, "source": c.source, "digest": c.digest(),
             "faults": max(faults, (old or {}).get("faults", 0)), "seed": c.seed,
             "settings": len(c.settings), "rasflow": __version__}
        _atomic(self.manifest_path, lambda fh: fh.write(json.dumps(m, indent=2).encode()))
        return m

    def verify(self) -> tuple[list[tuple[int, int, Path]], list[tuple[Path, str]]]:
        """(sound parts, damaged parts with why): a part is sound when Parquet reads it and
        it holds exactly the rows its name says (``index`` lo..hi-1, in order) and no earlier
        part holds them already. A zero-byte, short, garbled or overlapping part is damaged:
        never trusted, never counted."""
        sound, damaged, at = [], [], 0
        for lo, hi, path in self.parts():
            try:
                index = pq.read_table(path, columns=["index"]).column("index").to_pylist()
            except (OSError, pa.ArrowException) as e:
                damaged.append((path, f"unreadable ({str(e).splitlines()[0][:120]})"))
                continue
            if index != list(range(lo, hi)):
                damaged.append((path, f"holds {len(index)} rows, not the {hi - lo} of its name"))
            elif lo < at:
                damaged.append((path, f"overlaps the rows before {at}"))
            else:
                sound.append((lo, hi, path))
                at = hi
        return sound, damaged

    def set_aside(self) -> list[tuple[Path, str]]:
        """Rename every damaged part to ``damaged-*`` (kept to look at; its rows are
        missing again, so a resume recomputes them); what was set aside, and why."""
        _, damaged = self.verify()
        for path, _why in damaged:
            path.replace(path.with_name(f"damaged-{path.name}"))
        return damaged

    def parts(self) -> list[tuple[int, int, Path]]:
        """The finished parts, sorted by range."""
        out = []
        for p in self.root.glob("part-*.parquet"):
            m = _PART.fullmatch(p.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), p))
        return sorted(out)

    def missing(self, n: int) -> list[tuple[int, int]]:
        """The index ranges of ``0..n`` no part holds."""
        gaps, at = [], 0
        for lo, hi, _ in self.parts():
            if lo > at and at < n:
                gaps.append((at, min(lo, n)))
            at = max(at, hi)
        if at < n:
            gaps.append((at, n))
        return gaps

    def write(self, lo: int, hi: int, cols: dict[str, list]) -> Path:
        """Write the rows ``lo..hi`` atomically."""
        table = pa.table(cols, schema=SCHEMA)
        path = self.root / f"part-{lo:012d}-{hi:012d}.parquet"
        _atomic(path, lambda fh: pq.write_table(table, fh, compression="zstd"))
        return path

    def read(self) -> pa.Table:
        """Every row of the sound parts, sorted by index (for tests and small campaigns;
        DuckDB for large)."""
        tables = [pq.read_table(p) for _, _, p in self.verify()[0]]
        table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
        return table.sort_by("index")

    def glob(self) -> str:
        """The parts as a glob for DuckDB / Arrow."""
        return str(self.root / "part-*.parquet")


def chunks(gaps: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Split index ranges into chunks of at most ``size`` rows."""
    return [(lo, min(lo + size, hi)) for a, hi in gaps for lo in range(a, hi, size)]
