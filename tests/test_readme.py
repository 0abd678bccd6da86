"""Every example in README.md runs, in order, in one scratch directory: each shell line is a
test (exit status 0, no traceback), each Python block is a test. Lines that need what this
machine may not have (the kernel oracle, ACPI tables in sysfs, xxd) are skipped naming it;
the two commands that install rasflow and run these very tests are not run from here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```(sh|python)\n(.*?)```", README.read_text(), re.S)


def _oracle() -> bool:
    from rasflow.interop import kernel_oracle as ko

    return ko.ready() is not None


# (text in the line, what it needs, why it is not run here)
NEEDS = [
    ("scripts/setup.sh", lambda: False, "installs rasflow: .ci/run runs it"),
    ("-m pytest", lambda: False, "runs these tests"),
    ("verify kernel --setup", lambda: False, "installs QEMU and the kernel as root: .ci/run runs it"),
    ("verify kernel", _oracle, "the kernel oracle is not set up (rasflow verify kernel --setup)"),
    ("/sys/firmware/acpi/tables", lambda: Path("/sys/firmware/acpi/tables").is_dir(), "no ACPI tables in sysfs"),
    ("xxd ", lambda: shutil.which("xxd") is not None, "xxd is not installed"),
]
CASES = []
for i, (lang, body) in enumerate(BLOCKS):
    if lang == "python":
        CASES.append(pytest.param("python", body, id=f"block{i}-python"))
        continue
    for j, line in enumerate(body.splitlines()):
        if line.strip() and not line.lstrip().startswith("#"):
            CASES.append(pytest.param("sh", line, id=f"block{i}-line{j}"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize(("lang", "code"), CASES)
def test_readme_example(lang, code, scratch, monkeypatch):
    if lang == "python":
        monkeypatch.chdir(scratch)
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
        return
    for text, available, why in NEEDS:
        if text in code and not available():
            pytest.skip(why)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "COLUMNS": "120"}
    p = subprocess.run(["bash", "-c", code], cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and "Traceback" not in p.stderr, f"{code}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"


def test_every_subcommand_has_an_example():
    from rasflow.cli import COMMANDS

    shown = {m.group(1) for _, body in BLOCKS for m in re.finditer(r"\brasflow (\w+)", body)}
    assert set(COMMANDS) <= shown, set(COMMANDS) - shown
