"""Running campaigns: the same rows for any executor, resuming after a stop or a kill, and
the store's integrity."""

import os
import signal
import subprocess
import sys
import time

import pytest

from rasflow.campaign import Store, StoreError, load_campaign, parse_campaign, run_campaign

N = 320  # 40 samples x 8 settings


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("default")


def rows(path) -> dict:
    return Store(path).read().to_pydict()


@pytest.fixture(scope="module")
def reference(campaign, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    done = run_campaign(campaign, out, N, workers=1, chunk=40)
    assert (done.before, done.ran, done.stopped) == (0, N, False)
    return rows(out)


def test_reference_is_whole(reference):
    assert reference["index"] == list(range(N))
    assert set(reference["kind"]) >= {"memory-ue", "memory-ce", "patrol-scrub"}
    # paired: each sample under the 8 settings, the same fault each time
    assert reference["target"][:8] == [reference["target"][0]] * 8
    assert len(set(zip(reference["policy"][:8], reference["early_kill"][:8], strict=True))) == 8


def test_two_workers_same_rows(campaign, reference, tmp_path):
    run_campaign(campaign, tmp_path, N, workers=2, chunk=25)
    assert rows(tmp_path) == reference


def test_dask_local_cluster_same_rows(campaign, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        run_campaign(campaign, tmp_path, N, scheduler=cluster.scheduler_address, chunk=30)
    assert rows(tmp_path) == reference


def test_resume_after_stop(campaign, reference, tmp_path):
    first = run_campaign(campaign, tmp_path, N, workers=1, chunk=30, stop_after=4)
    assert first.stopped and first.ran == 120
    assert Store(tmp_path).missing(N) == [(120, N)]
    second = run_campaign(campaign, tmp_path, N, workers=2, chunk=50)
    assert (second.before, second.ran) == (120, N - 120)
    assert rows(tmp_path) == reference
    again = run_campaign(campaign, tmp_path, N, workers=2)
    assert again.ran == 0


def test_resume_after_kill(reference, tmp_path):
    cmd = [sys.executable, "-m", "rasflow.cli", "campaign", "default", "--faults", str(N),
           "--workers", "2", "--chunk", "8", "--quiet", "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL)
    store = Store(tmp_path)
    deadline = time.monotonic() + 60
    try:
        while len(store.parts()) < 6 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = N - sum(hi - lo for lo, hi in store.missing(N))
    assert 0 < done_before < N, "the kill came too late to test resuming"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=120)
    assert not list(tmp_path.glob(".part-*"))
    assert rows(tmp_path) == reference  # no duplicate, no missing row


def test_growing_a_campaign(campaign, reference, tmp_path):
    run_campaign(campaign, tmp_path, 100, workers=1)
    run_campaign(campaign, tmp_path, N, workers=1)
    assert rows(tmp_path) == reference
    assert Store(tmp_path).manifest()["faults"] == N


def test_another_spec_is_refused(campaign, tmp_path):
    run_campaign(campaign, tmp_path, 8, workers=1)
    other = parse_campaign('[base]\nscenario = "guest-ue-ar"\n')
    with pytest.raises(StoreError, match="holds results of another spec"):
        run_campaign(other, tmp_path, 8)


def test_a_second_run_on_one_directory_is_refused(campaign, reference, tmp_path):
    """While a run holds the directory, another is refused with one line naming it (it
    would remove the first one's unfinished parts and write the same rows twice); once the
    first ends, the directory is free and the rows are those of one run."""
    first = Store(tmp_path)
    first.lock()
    try:
        with pytest.raises(StoreError, match=rf"is in use by another campaign run \(pid {os.getpid()}\)"):
            run_campaign(campaign, tmp_path, 40)
    finally:
        first.unlock()
    run_campaign(campaign, tmp_path, 40)
    assert rows(tmp_path) == {k: v[:40] for k, v in reference.items()}


def test_two_processes_on_one_directory_never_count_a_row_twice(tmp_path):
    """Two `rasflow campaign` processes on one --out at once: one runs, the other refuses
    in one line with exit status 2; no row is there twice."""
    cmd = [sys.executable, "-m", "rasflow.cli", "campaign", "default", "--out", str(tmp_path),
           "--faults", "3000", "--workers", "1", "--quiet"]  # long enough to overlap
    a = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / ".lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip() == str(a.pid)):  # a holds it
        assert time.monotonic() < deadline and a.poll() is None, "the first run never took the directory"
        time.sleep(0.05)
    b = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, timeout=120)
    a.wait(timeout=300)
    assert a.returncode == 0
    assert b.returncode == 2 and "in use by another campaign run" in b.stderr
    assert len(b.stderr.strip().splitlines()) == 1
    got = rows(tmp_path)
    assert sorted(got["index"]) == list(range(3000))


@pytest.mark.parametrize("damage", ["empty", "short", "garbled", "overlapping"])
def test_a_damaged_part_is_never_trusted(campaign, reference, tmp_path, damage):
    """A zero-byte, short, garbled or overlapping part file: the summary leaves it out and
    says so (no traceback), and a resume sets it aside and computes its rows again, so the
    directory ends with the rows of an undamaged run, each once."""
    from rasflow.campaign.summary import format_text, summarize

    run_campaign(campaign, tmp_path, 80, workers=1, chunk=40)
    lo, hi, part = Store(tmp_path).parts()[1]
    if damage == "empty":
        part.write_bytes(b"")
    elif damage == "garbled":
        data = bytearray(part.read_bytes())
        data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
        part.write_bytes(bytes(data))
    elif damage == "short":  # the rows of another range under this part's name
        first = Store(tmp_path).parts()[0][2]
        part.write_bytes(first.read_bytes())
    else:  # a second chunking's sound part over rows already there
        Store(tmp_path).write(20, 60, {k: v[20:60] for k, v in reference.items()})
    text = format_text(summarize(tmp_path))
    assert "damaged part left out" in text
    run_campaign(campaign, tmp_path, 80, workers=1, chunk=40)
    assert rows(tmp_path) == {k: v[:80] for k, v in reference.items()}
    assert list(tmp_path.glob("damaged-part-*"))
    assert "damaged part" not in format_text(summarize(tmp_path))


def test_a_directory_of_older_rows_is_refused(tmp_path):
    """Rows of store format 1 (before the per-layer columns) cannot be resumed into."""
    import json

    c = load_campaign("default")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "digest": c.digest(), "rasflow": "0.6"}))
    with pytest.raises(StoreError, match="format 1 .*rasflow 0.6.*format 2; use another --out"):
        Store(tmp_path).open(c, 10)
