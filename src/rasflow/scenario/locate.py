"""Map key paths of a TOML document to 1-based source lines (tomllib keeps no positions).

A path is a tuple of keys and array indices, e.g. ``("vms", 0, "processes", 1, "program",
2)``. :func:`locate` scans text that tomllib has already accepted and records the line where
each table header, key, array element and inline-table key starts, including the elements
of multi-line arrays. :meth:`Locator.line` answers with the line of the longest recorded
prefix, so a missing key is reported at its table's header.
"""

from __future__ import annotations

import bisect
import re

Path = tuple[str | int, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"


def format_path(path: Path) -> str:
    """``vms[0].processes[1].program[2]``; keys that are not bare are quoted."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            key = seg if _BARE.fullmatch(seg) else '"' + seg.replace('"', '\\"') + '"'
            out += ("." if out else "") + key
    return out


class Locator:
    """Lines of the paths of one document: given, or scanned from its text when a line is
    first asked for (only an error needs one, and scanning costs more than parsing)."""

    def __init__(self, lines: dict[Path, int] | None = None, *, text: str | None = None):
        self._lines, self._text = lines, text

    @property
    def lines(self) -> dict[Path, int]:
        if self._lines is None:
            self._lines = _scan(self._text or "")
        return self._lines

    def line(self, path: Path) -> int:
        """The line of ``path`` or of its longest recorded prefix (1 for the document)."""
        lines = self.lines
        for n in range(len(path), 0, -1):
            line = lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return 1


def locate(text: str) -> Locator:
    """The locator of valid TOML ``text`` (scanned on first use)."""
    return Locator(text=text)


def _scan(text: str) -> dict[Path, int]:
    """Scan valid TOML ``text``; on anything unexpected keep what was found so far."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError):  # pragma: no cover - tomllib accepted the text
        pass
    return scanner.out


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.out: dict[Path, int] = {}
        self.aot: dict[Path, int] = {}  # array-of-tables path -> count so far

    # --- positions and whitespace --------------------------------------------------------
    def line(self) -> int:
        return bisect.bisect_right(self.starts, self.i)

    def record(self, path: Path) -> None:
        self.out.setdefault(path, self.line())

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and newlines if asked)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in _WS or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    # --- structure -----------------------------------------------------------------------
    def document(self) -> None:
        table: Path = ()
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.s):
                return
            if self.s.startswith("[[", self.i):
                self.i += 2
                keys = self.keys()
                parent = self.resolve(keys[:-1]) + (keys[-1],)
                n = self.aot.get(parent, 0)
                self.aot[parent] = n + 1
                self.record(parent)
                table = parent + (n,)
                self.record(table)
                self.i = self.s.index("]]", self.i) + 2
            elif self.peek() == "[":
                self.i += 1
                table = self.resolve(self.keys())
                self.record(table)
                self.i = self.s.index("]", self.i) + 1
            else:
                self.keyval(table)

    def resolve(self, keys: list[str]) -> Path:
        """A header's keys as a path: arrays of tables take their latest element."""
        path: Path = ()
        for key in keys:
            path += (key,)
            if path in self.aot:
                path += (self.aot[path] - 1,)
        return path

    def keys(self) -> list[str]:
        """A dotted key: bare or quoted parts."""
        parts = []
        while True:
            self.skip(newlines=False)
            c = self.peek()
            if c in "\"'":
                parts.append(self.string())
            else:
                m = _BARE.match(self.s, self.i)
                if m is None:
                    raise ValueError("key expected")
                parts.append(m.group())
                self.i = m.end()
            self.skip(newlines=False)
            if self.peek() != ".":
                return parts
            self.i += 1

    def keyval(self, base: Path) -> None:
        path = base
        for key in self.keys():
            path += (key,)
            self.record(path)
        self.skip(newlines=False)
        if self.peek() != "=":
            raise ValueError("'=' expected")
        self.i += 1
        self.skip(newlines=False)
        self.value(path)

    def value(self, path: Path) -> None:
        c = self.peek()
        if c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip(newlines=True)
                if self.peek() == "]":
                    self.i += 1
                    return
                self.record(path + (index,))
                self.value(path + (index,))
                self.skip(newlines=True)
                if self.peek() == ",":
                    self.i += 1
                index += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip(newlines=False)
                if self.peek() == "}":
                    self.i += 1
                    return
                self.keyval(path)
                self.skip(newlines=False)
                if self.peek() == ",":
                    self.i += 1
        elif c in "\"'":
            self.string()
        else:
            m = re.compile(r"[^,\]}\n#]*").match(self.s, self.i)
            self.i = m.end() if m else self.i

    def string(self) -> str:
        """A basic, literal or multi-line string; returns its (roughly unescaped) text."""
        q = self.s[self.i]
        if self.s.startswith(q * 3, self.i):
            end = self.s.index(q * 3, self.i + 3)
            while self.s.startswith(q, end + 3):  # up to two quotes may end the content
                end += 1
            text = self.s[self.i + 3:end]
            self.i = end + 3
            return text
        j = self.i + 1
        while self.s[j] != q:
            j += 2 if q == '"' and self.s[j] == "\\" else 1
        text = self.s[self.i + 1:j]
        self.i = j + 1
        return text.replace('\\"', '"').replace("\\\\", "\\") if q == '"' else text
