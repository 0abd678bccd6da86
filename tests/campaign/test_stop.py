"""Stopping a campaign: SIGINT and SIGTERM to the main process (what ``timeout``, ``kill -INT
PID`` and job runners send), a second signal, and a terminal's Ctrl-C to the whole group.
Every stop exits promptly with 128 + signum, leaves no process behind, and keeps every
finished row exactly once: resuming gives the rows of an uninterrupted run."""

import os
import pty
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from rasflow.campaign import Stop, Store, load_campaign, run_campaign

TRIALS = 100
HEADROOM = 3000  # rows beyond those done: more than a trial can run before its signal
SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("default")


def rows(path) -> dict:
    return Store(path).read().to_pydict()


def done(path) -> int:
    """Rows in the directory's parts."""
    return sum(hi - lo for lo, hi, _ in Store(path).parts())


def session_processes(sid: int) -> list[int]:
    """The processes of session ``sid`` (the campaign, its forkserver, workers, tracker)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(entry))
    return out


def no_process_left(sid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while session_processes(sid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Campaign:
    """``rasflow campaign default`` in its own session; without ``--quiet`` on a terminal (a
    pty), so the progress bar's refresh thread runs as it does for a user."""

    def __init__(self, out, faults: int, workers: int, quiet: bool):
        self.out = out
        self.manifest = out / "manifest.json"
        self.old = self.manifest.stat().st_ino if self.manifest.exists() else None
        cmd = [sys.executable, "-m", "rasflow.cli", "campaign", "default", "--faults",
               str(faults), "--workers", str(workers), "--chunk", "50", "--out", str(out)]
        self.text = bytearray()
        if quiet:
            self.proc = subprocess.Popen(cmd + ["--quiet"], start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.reader = threading.Thread(target=self._drain, args=(self.proc.stderr,))
        else:
            master, slave = pty.openpty()
            self.proc = subprocess.Popen(cmd, start_new_session=True, stdout=slave, stderr=slave)
            os.close(slave)
            self.reader = threading.Thread(target=self._drain, args=(open(master, "rb", 0),))
        self.reader.start()

    def _drain(self, stream) -> None:
        with stream:
            try:
                while chunk := stream.read(65536):
                    self.text += chunk
            except OSError:  # a pty's EIO once the last writer is gone
                pass

    def wait_running(self) -> None:
        """Until the run has (re)written its manifest: its signal handlers are in place."""
        deadline = time.monotonic() + 30
        while (self.manifest.stat().st_ino if self.manifest.exists() else None) == self.old:
            assert self.proc.poll() is None, bytes(self.text).decode(errors="replace")
            assert time.monotonic() < deadline, "the campaign never started"
            time.sleep(0.002)

    def stopped_by(self, *signums: int, gap: float = 0.0) -> tuple[int, float]:
        """Send ``signums`` (``gap`` apart) to the main process; its status and seconds taken."""
        t0 = time.monotonic()
        for i, s in enumerate(signums):
            if i:
                time.sleep(gap)
            self.proc.send_signal(s)
        try:
            status = self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        took = time.monotonic() - t0
        self.reader.join(5)
        return status, took

    @property
    def output(self) -> str:
        return bytes(self.text).decode(errors="replace")


def test_signals_at_random_moments(campaign, tmp_path):
    """100 signals, SIGINT and SIGTERM, with and without --quiet, 1 and 2 workers, at random
    moments from the campaign's start (before its workers exist, while they start, while
    they run); each run in the same directory resumes the last one."""
    seed = int(os.environ.get("RASFLOW_STOP_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    combos = [(s, q, w) for s in SIGNALS for q in (True, False) for w in (1, 2)]
    plan = (combos * (TRIALS // len(combos) + 1))[:TRIALS]
    rng.shuffle(plan)
    out = tmp_path / "chain"
    for trial, (signum, quiet, workers) in enumerate(plan):
        where = (f"trial {trial} (RASFLOW_STOP_SEED={seed}): {signum.name}, "
                 f"{'--quiet' if quiet else 'a terminal'}, {workers} worker(s)")
        before = done(out)
        n = before + HEADROOM
        c = Campaign(out, n, workers, quiet)
        c.wait_running()
        time.sleep(rng.uniform(0, 0.6))
        status, took = c.stopped_by(signum)
        assert status == SIGNALS[signum], f"{where}: exit {status}\n{c.output}"
        assert took < 5, f"{where}: took {took:.1f} s to stop"
        assert no_process_left(c.proc.pid), f"{where}: processes left behind"
        now = done(out)
        assert f"stopped by {signum.name}: {now:,} of {n:,} rows are in" in c.output, where
        assert now >= before, where
        assert not list(out.glob(".part-*")), f"{where}: a temporary part left"
    final = run_campaign(campaign, out, n, workers=2)
    assert final.before + final.ran == n
    reference = tmp_path / "reference"
    run_campaign(campaign, reference, n, workers=2)
    got = rows(out)
    assert got["index"] == list(range(n))  # every row exactly once
    assert got == rows(reference)


@pytest.mark.parametrize("workers", [1, 2])
def test_second_signal_stops_at_once(campaign, tmp_path, workers):
    """The second signal does not wait for the workers: they are killed, the status is the
    same, a part being written is left as a temporary file the next run removes."""
    n = HEADROOM  # more than the run can finish before the signals
    c = Campaign(tmp_path, n, workers, quiet=True)
    c.wait_running()
    time.sleep(0.3)
    status, took = c.stopped_by(signal.SIGINT, signal.SIGINT, gap=0.001)
    assert status == 130 and took < 5, f"exit {status} after {took:.1f} s\n{c.output}"
    assert no_process_left(c.proc.pid)
    assert "rows are in" in c.output or "second SIGINT" in c.output
    run_campaign(campaign, tmp_path, n, workers=workers)
    assert not list(tmp_path.glob(".part-*"))
    reference = tmp_path.parent / f"{tmp_path.name}-reference"
    run_campaign(campaign, reference, n, workers=2)
    assert rows(tmp_path) == rows(reference)


def test_terminal_ctrl_c_to_the_group(tmp_path):
    """A terminal's Ctrl-C reaches every process of the group: the workers ignore it and the
    driver stops them, so it is the same path and the same status."""
    c = Campaign(tmp_path, 5000, 2, quiet=False)
    c.wait_running()
    time.sleep(0.8)
    t0 = time.monotonic()
    os.killpg(c.proc.pid, signal.SIGINT)
    status = c.proc.wait(timeout=10)
    assert status == 130 and time.monotonic() - t0 < 5
    c.reader.join(5)
    assert "stopped by SIGINT" in c.output
    assert no_process_left(c.proc.pid)


@pytest.mark.parametrize("executor", ["in-process", "processes", "dask"])
def test_a_stop_request_keeps_finished_rows(campaign, tmp_path, executor):
    """The library's path, for every executor: a request (as the signal handler makes it)
    after the first part stops the run early, and resuming completes the rows of an
    uninterrupted run."""
    n = 400
    stop = Stop()
    kw: dict = {"workers": 2} if executor == "processes" else {}
    cluster = None
    if executor == "dask":
        distributed = pytest.importorskip("distributed")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
        kw = {"scheduler": cluster.scheduler_address}
    try:
        first = run_campaign(campaign, tmp_path, n, chunk=20, stop=stop,
                             on_chunk=lambda _: stop() or stop.request(signal.SIGINT), **kw)
        assert first.stopped and 0 < first.ran < n
        assert stop.status == 130
        run_campaign(campaign, tmp_path, n, chunk=20, **kw)
    finally:
        if cluster is not None:
            cluster.close()
    reference = tmp_path.parent / f"{tmp_path.name}-reference"
    run_campaign(campaign, reference, n, chunk=50)
    assert rows(tmp_path) == rows(reference)
