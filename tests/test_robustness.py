"""Robustness: index runs really killed with SIGKILL, concurrent readers and
writers, hostile files on disk and hostile query strings.

Nothing here measures time: processes are stopped at named points of an
index run (a driver script prints READY there) or after arbitrary delays,
and only the state they leave behind is checked.
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsearch import KnowledgeBase, engine
from kbsearch.cli import cli
from kbsearch.errors import KBSearchError
from kbsearch.ingest import MAX_FILE_BYTES, PARALLEL_MIN_FILES, index_paths

from .conftest import DATA, REPO

SEED = (DATA / "Q168845.TXT").read_bytes()
SEED_HEAD = b"DOCUMENT:Q168845  09-AUG-2001"
SEED_TITLE = b"TITLE   :Windows NT SMS Clients Produce NT Event 3031"

OLD = list(range(100001, 100006))        # committed before the run that is killed
NEW = list(range(200000, 200150))        # what that run adds
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals, FIFOs and fork")


# --- making articles ---------------------------------------------------------

def article(q: int, title: str | None = None, date: str = "09-AUG-2001") -> bytes:
    """The seed article Q168845 as article ``Q<q>`` with a title of its own."""
    title = title if title is not None else f"Generated article {q} about widget{q}"
    data = SEED.replace(SEED_HEAD, f"DOCUMENT:Q{q}  {date}".encode())
    data = data.replace(SEED_TITLE, b"TITLE   :" + title.encode("utf-8"))
    assert data != SEED
    return data


def write_articles(folder: Path, numbers) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for q in numbers:
        (folder / f"Q{q}.TXT").write_bytes(article(q))


def qids(numbers) -> list[str]:
    return sorted(f"Q{q}" for q in numbers)


def assert_index_holds(ix: Path, numbers, absent=()) -> None:
    """The index opens, counts, lists, shows and finds exactly ``numbers``."""
    with KnowledgeBase.open(ix) as kb:
        assert kb.stats()["articles"] == len(numbers)
        assert sorted(kb.engine.iter_ids()) == qids(numbers)
        probe = sorted(numbers)
        for q in {probe[0], probe[len(probe) // 2], probe[-1]}:
            assert kb.get(f"Q{q}").title == f"Generated article {q} about widget{q}"
            assert [h.id for h in kb.search(f"widget{q}", limit=3)][:1] == [f"Q{q}"]
        for q in absent:
            with pytest.raises(KBSearchError, match="not in the index"):
                kb.get(f"Q{q}")


def stray_files(ix: Path) -> list[str]:
    """Files in the index folder that its current commit does not use.

    Tolerated: a ``_kb_N.toc.<time>`` temporary table of contents, which a
    kill inside the (sub-millisecond) TOC write can leave; Whoosh never reads
    or removes it, so it is harmless litter.
    """
    wix = engine.open_index(str(ix))
    live = {s.segment_id() for s in wix._segments()}
    keep = {f"_{engine.INDEX_NAME}_{wix.latest_generation()}.toc", f"{engine.INDEX_NAME}_WRITELOCK"}
    toc_temp = re.compile(rf"^_{engine.INDEX_NAME}_\d+\.toc\.[\d.]+$")
    return sorted(n for n in os.listdir(ix)
                  if n not in keep and n.split(".")[0] not in live and not toc_temp.match(n))


# --- running the real command in another process ------------------------------

# Runs ``kbsearch ARGS`` with hooks that print "READY <point>" when the run
# reaches KB_TEST_POINT, then wait for the file KB_TEST_GO (or, with
# KB_TEST_NOPAUSE, carry on). Points: locked (writer lock taken), parsing
# (KB_TEST_AFTER files read, mid-segment), segment (a segment written),
# commit (deletions and segments ready, nothing published), toc (new table
# of contents written, lock and temp files not yet released).
DRIVER = r'''
import os, sys, time
point = os.environ.get("KB_TEST_POINT", "")
go = os.environ.get("KB_TEST_GO")
import whoosh.writing as ww
import kbsearch.engine as engine
import kbsearch.ingest as ingest

def reached(name):
    if name != point:
        return
    print("READY", name, os.getpid(), flush=True)
    if os.environ.get("KB_TEST_NOPAUSE"):
        return
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if go and os.path.exists(go):
            return
        time.sleep(0.02)
    os._exit(3)

def after(obj, name, point):
    orig = getattr(obj, name)
    def hooked(*a, **k):
        r = orig(*a, **k)
        reached(point)
        return r
    setattr(obj, name, hooked)

def before(obj, name, point):
    orig = getattr(obj, name)
    def hooked(*a, **k):
        reached(point)
        return orig(*a, **k)
    setattr(obj, name, hooked)

after(engine.Writer, "__init__", "locked")
after(engine, "write_segment", "segment")
before(engine.Writer, "commit", "commit")
after(ww.SegmentWriter, "_commit_toc", "toc")
_read, _n = ingest.read_article, [0]
def read_article(path):
    _n[0] += 1
    if _n[0] == int(os.environ.get("KB_TEST_AFTER", "50")):
        reached("parsing")
    return _read(path)
ingest.read_article = read_article

from kbsearch.cli import main
sys.argv[0] = "kbsearch"
main()
'''


class Run:
    """``kbsearch ARGS`` in a child process (see DRIVER)."""

    def __init__(self, tmp_path: Path, args: list, point: str = "", nopause: bool = False,
                 after: int = 50, hooks: bool = True, script: str | None = None):
        """``kbsearch ARGS`` with DRIVER's hooks, or plain (``hooks=False``), or
        ``script`` (Python source) run with ARGS."""
        tag = time.monotonic_ns()
        self.go = tmp_path / f"go-{tag}"
        self.err_path = tmp_path / f"stderr-{tag}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                   KB_TEST_POINT=point, KB_TEST_GO=str(self.go), KB_TEST_AFTER=str(after))
        env.pop("KBSEARCH_INDEX", None)
        if nopause:
            env["KB_TEST_NOPAUSE"] = "1"
        if script is not None or hooks:
            path = tmp_path / f"script-{tag}.py"
            path.write_text(script if script is not None else DRIVER)
            cmd = [sys.executable, str(path), *map(os.fsencode, args)]
        else:
            cmd = [sys.executable, "-m", "kbsearch", *map(os.fsencode, args)]
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, env=env)

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Block until the child prints READY (a guard, not a measurement)."""
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                self.kill()
                pytest.fail(f"no READY from the index run within {timeout}s: {self.stderr()}")
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait()
                pytest.fail(f"index run ended (rc {self.proc.returncode}) before READY: {self.stderr()}")
            buf += chunk
        line = buf.split(b"\n")[0].decode()
        assert line.startswith("READY"), line
        return line

    def release(self) -> None:
        self.go.touch()

    def kill(self) -> int:
        self.proc.kill()
        return self.finish()

    def finish(self, timeout: float = 60.0) -> int:
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._err.close()
        return self.proc.returncode

    def stdout(self) -> str:
        return self.proc.stdout.read().decode("utf-8", "replace")

    def stderr(self) -> str:
        if not self._err.closed:
            self._err.flush()
        return self.err_path.read_text("utf-8", "replace")


@pytest.fixture
def runs():
    """Child processes started by a test; any still running at the end are killed."""
    started: list[Run] = []
    yield started
    for r in started:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
        r._err.close()


@pytest.fixture
def committed(tmp_path):
    """An index holding the OLD articles; NEW articles are then added to its folder."""
    arts = tmp_path / "articles"
    ix = tmp_path / "index"
    write_articles(arts, OLD)
    index_paths(str(ix), [str(arts)])
    write_articles(arts, NEW)
    return arts, ix


def recover_and_check(arts: Path, ix: Path, old_survived: bool) -> None:
    """The next run needs no --wait and no manual unlocking, and ends with everything."""
    assert (ix / f"{engine.INDEX_NAME}_WRITELOCK").exists()  # left behind by the dead run, but not held
    report = index_paths(str(ix), [str(arts)])
    if old_survived:
        assert (report.added, report.unchanged) == (len(NEW), len(OLD))
    else:
        assert (report.added, report.unchanged) == (0, len(OLD) + len(NEW))
    assert report.articles == len(OLD) + len(NEW)
    assert_index_holds(ix, OLD + NEW)
    assert stray_files(ix) == []
    assert not (ix / f"{engine.INDEX_NAME}.tmp").exists()


# --- kill -9 ---------------------------------------------------------------

@posix_only
@pytest.mark.parametrize("point, rebuild", [
    ("locked", False),
    ("parsing", False),
    ("segment", False),
    ("commit", False),
    ("commit", True),
    ("toc", False),
])
def test_kill_9_at_each_stage_keeps_last_commit(committed, tmp_path, runs, point, rebuild):
    arts, ix = committed
    args = ["index", str(arts), "--index", str(ix)] + (["--rebuild"] if rebuild else [])
    run = Run(tmp_path, args, point=point)
    runs.append(run)
    run.wait_ready()
    assert run.kill() == -signal.SIGKILL
    if point == "toc":
        # The new table of contents was written: that commit stands.
        assert_index_holds(ix, OLD + NEW)
    else:
        assert_index_holds(ix, OLD, absent=NEW[:3])
    recover_and_check(arts, ix, old_survived=point != "toc")


@posix_only
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.4, 0.7])
def test_kill_9_after_a_delay_keeps_a_whole_commit(committed, tmp_path, runs, delay):
    arts, ix = committed
    run = Run(tmp_path, ["index", str(arts), "--index", str(ix), "-q"], hooks=False)
    runs.append(run)
    time.sleep(delay)  # where the run is when killed varies; the outcome must not
    rc = run.kill()
    assert rc in (0, -signal.SIGKILL), run.stderr()
    with KnowledgeBase.open(ix) as kb:
        n = kb.stats()["articles"]
    assert n in (len(OLD), len(OLD) + len(NEW))
    if rc == 0:
        assert n == len(OLD) + len(NEW)
    assert_index_holds(ix, OLD if n == len(OLD) else OLD + NEW)
    recover_and_check(arts, ix, old_survived=n == len(OLD))


@posix_only
@pytest.mark.parametrize("point", ["parsing", "commit"])
def test_ctrl_c_during_a_run_is_one_line_and_keeps_last_commit(committed, tmp_path, runs, point):
    arts, ix = committed
    run = Run(tmp_path, ["index", str(arts), "--index", str(ix)], point=point)
    runs.append(run)
    run.wait_ready()
    run.proc.send_signal(signal.SIGINT)
    assert run.finish() == 1
    err = run.stderr()
    assert err.strip() == "Error: interrupted: the index is as it was before this run", err
    engine.Writer(engine.open_index(str(ix))).cancel()  # the lock was given back
    assert_index_holds(ix, OLD, absent=NEW[:3])
    recover_and_check(arts, ix, old_survived=True)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


@posix_only
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to find the worker processes")
def test_kill_9_parallel_run_orphaned_workers_do_not_keep_the_lock(tmp_path, runs):
    """Workers forked by a run inherit its lock; killing the run must still free the index."""
    arts, ix = tmp_path / "articles", tmp_path / "index"
    write_articles(arts, OLD)
    index_paths(str(ix), [str(arts)])
    many = range(300000, 300000 + PARALLEL_MIN_FILES + 10)
    write_articles(arts, many)
    run = Run(tmp_path, ["index", str(arts), "--index", str(ix), "--procs", "2"],
              point="parsing", nopause=True, after=10)
    runs.append(run)
    run.wait_ready()  # printed by a worker: the pool is up and writing its segment
    workers = _children(run.proc.pid)
    assert workers
    try:
        assert run.kill() == -signal.SIGKILL
        # The orphaned workers may still be running; the lock must be free anyway.
        w = engine.Writer(engine.open_index(str(ix)))
        w.cancel()
        assert_index_holds(ix, OLD, absent=[300000])
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)  # started (transitively) by this test
            except ProcessLookupError:
                pass
    for pid in workers:  # wait until they can write nothing more (zombie or gone)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except OSError:
                break
            time.sleep(0.01)
    # The next commit removes whatever the dead run and its workers left behind.
    report = index_paths(str(ix), [str(arts / f"Q{OLD[0]}.TXT")])
    assert (report.added, report.unchanged, report.articles) == (0, 1, len(OLD))
    assert stray_files(ix) == []
    assert not (ix / f"{engine.INDEX_NAME}.tmp").exists()
    assert_index_holds(ix, OLD)


# --- concurrent readers and writers ------------------------------------------

def _one_line_error(r, needle: str) -> None:
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error: ") and needle in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert "Traceback" not in r.output


@posix_only
def test_reading_while_a_run_holds_the_lock_and_a_second_run_is_refused(committed, tmp_path, runs):
    arts, ix = committed
    runner = CliRunner()
    before = KnowledgeBase.open(ix)  # a long-lived reader, opened before the run
    try:
        assert before.stats()["articles"] == len(OLD)
        run = Run(tmp_path, ["index", str(arts), "--index", str(ix), "--rebuild", "--json"], point="commit")
        runs.append(run)
        run.wait_ready()  # the run holds the lock, its segment is written, nothing is published

        with KnowledgeBase.open(ix) as kb:
            assert kb.stats()["articles"] == len(OLD)
            assert [h.id for h in kb.search("widget100002")][:1] == ["Q100002"]
        r = runner.invoke(cli, ["widget100003", "--json", "--index", str(ix)])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["hits"][0]["id"] == "Q100003"
        r = runner.invoke(cli, ["show", "Q100004", "--index", str(ix)])
        assert r.exit_code == 0 and "widget100004" in r.output

        # A second run on the same index: one line, exit 1, nothing touched.
        r = runner.invoke(cli, ["index", str(arts), "--index", str(ix)])
        _one_line_error(r, "locked by another 'kbsearch index' run")
        assert str(ix) in r.output
        assert_index_holds(ix, OLD)

        run.release()
        assert run.finish() == 0, run.stderr()
        assert json.loads(run.stdout())["added"] == len(OLD) + len(NEW)
        # The rebuild deleted the segment files the old reader had open;
        # it follows the new commit instead of failing.
        assert before.stats()["articles"] == len(OLD) + len(NEW)
        assert [h.id for h in before.search("widget200007")][:1] == ["Q200007"]
        assert before.get(f"Q{NEW[-1]}").title.endswith(f"widget{NEW[-1]}")
    finally:
        before.close()
    assert_index_holds(ix, OLD + NEW)


@posix_only
def test_searches_keep_working_during_a_run(committed, tmp_path, runs):
    arts, ix = committed
    run = Run(tmp_path, ["index", str(arts), "--index", str(ix), "-q"], hooks=False)
    runs.append(run)
    kb = KnowledgeBase.open(ix)  # one reader kept open across the run's commit
    seen = set()
    try:
        while True:
            finished = run.proc.poll() is not None
            for reader in (kb, None):
                k = reader or KnowledgeBase.open(ix)
                n = k.stats()["articles"]
                assert n in (len(OLD), len(OLD) + len(NEW))
                seen.add(n)
                assert [h.id for h in k.search("widget100001")][:1] == ["Q100001"]
                if n > len(OLD):
                    assert [h.id for h in k.search("widget200100")][:1] == ["Q200100"]
                if reader is None:
                    k.close()
            if finished:
                break
    finally:
        kb.close()
    assert run.finish() == 0, run.stderr()
    assert len(OLD) + len(NEW) in seen
    assert_index_holds(ix, OLD + NEW)


# Takes the index's write lock in another process and keeps it until released.
HOLDER = """
import os, sys, time
from kbsearch import engine
w = engine.Writer(engine.open_index(sys.argv[1]))
print("READY held", flush=True)
while not os.path.exists(os.environ["KB_TEST_GO"]):
    time.sleep(0.02)
w.cancel()
"""


@posix_only
def test_second_run_fails_then_waits_with_wait(committed, tmp_path, runs):
    arts, ix = committed
    holder = Run(tmp_path, [str(ix)], script=HOLDER)
    runs.append(holder)
    holder.wait_ready()
    runner = CliRunner()
    r = runner.invoke(cli, ["index", str(arts), "--index", str(ix)])
    _one_line_error(r, "locked by another 'kbsearch index' run")
    assert "--wait" in r.output
    with pytest.raises(KBSearchError, match="locked by another"):
        KnowledgeBase.build(ix, [arts])
    assert_index_holds(ix, OLD)

    timer = threading.Timer(1.0, holder.release)  # the other run finishes in about a second
    timer.start()
    try:
        r = runner.invoke(cli, ["index", str(arts), "--index", str(ix), "--wait", "--json"])
    finally:
        timer.cancel()
        holder.release()
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["added"], data["unchanged"], data["articles"]) == (len(NEW), len(OLD), len(OLD) + len(NEW))
    assert holder.finish() == 0, holder.stderr()
    assert_index_holds(ix, OLD + NEW)


def test_lock_held_by_a_thread_is_refused_then_waited_for(committed):
    arts, ix = committed
    holder = engine.Writer(engine.open_index(str(ix)))
    released = threading.Event()

    def release():
        holder.cancel()
        released.set()

    with pytest.raises(KBSearchError, match="locked by another") as e:
        index_paths(str(ix), [str(arts)])
    assert "\n" not in str(e.value)
    timer = threading.Timer(1.0, release)
    timer.start()
    try:
        report = index_paths(str(ix), [str(arts)], wait=True)
    finally:
        timer.cancel()
        if not released.is_set():
            release()
    assert released.is_set()
    assert report.added == len(NEW)


def test_lock_file_that_cannot_be_opened_is_a_one_line_error(seed_dir, seed_index):
    lock = seed_index / f"{engine.INDEX_NAME}_WRITELOCK"
    lock.unlink()
    lock.mkdir()  # an index folder in a state no lock can be taken in
    r = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(seed_index)])
    _one_line_error(r, "lock")
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.stats()["articles"] == 2


# --- hostile files --------------------------------------------------------------

def _sparse(size: int, head: bytes = b""):
    def make(p: Path) -> None:
        with open(p, "wb") as f:
            f.write(head)
            f.truncate(size)
    return make


def _bytes(data: bytes):
    return lambda p: p.write_bytes(data)


def _symlink(target):
    return lambda p: os.symlink(target, p)


def _fifo(p: Path) -> None:
    os.mkfifo(p)


class _FifoRescuer:
    """Unblocks a reader stuck opening the FIFOs under ``folder``, so a run that
    waits on one fails its assertions (the file reads as empty) instead of hanging."""

    def __init__(self, folder: Path):
        self.fifos = [os.path.join(dp, n) for dp, _, ns in os.walk(folder) for n in ns
                      if stat.S_ISFIFO(os.lstat(os.path.join(dp, n)).st_mode)]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.05):
            for f in self.fifos:
                try:
                    os.close(os.open(f, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO unless a reader is there
                except OSError:
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def _loop_pair(p: Path) -> None:
    os.symlink(p.with_name("loop-b.txt"), p)
    os.symlink(p, p.with_name("loop-b.txt"))


def _utf8_cut(p: Path) -> None:
    data = article(400007, title="Caf\u00e9 cr\u00e8me \u00e9v\u00e9nement").replace(
        b"STATUS", "R\u00c9SUM\u00c9".encode())
    p.write_bytes(data[: data.index("R\u00c9SUM\u00c9".encode()) + 2])  # cut inside the \u00c9


# name (bytes, so undecodable names are possible), how to make it, and either
# ("skipped", reason regex, how many entries), ("indexed", Q-number, 0) or ("none", None, 0)
HOSTILE = [
    (b"empty.txt", _bytes(b""), ("skipped", r"empty", 1)),
    (b"blank.txt", _bytes(b" \r\n\t\n" * 50), ("skipped", r"empty", 1)),
    (b"junk.txt", _bytes(bytes(range(256)) * 40), ("skipped", r"binary", 1)),
    (b"controls.txt", _bytes(b"\x01\x02\x03\x1b[0m" * 200), ("skipped", r"binary", 1)),
    (b"utf16.txt", _bytes(article(400001).decode().encode("utf-16")), ("skipped", r"binary", 1)),
    (b"notes.txt", _bytes(b"just some notes\nTITLE: no id here\n"), ("skipped", r"DOCUMENT", 1)),
    (b"header-no-id.txt", _bytes(b"DOCUMENT:"), ("skipped", r"DOCUMENT", 1)),
    (b"header-bare-q.txt", _bytes(b"DOCUMENT:Q  09-AUG-2001\nTITLE   :x\n"), ("skipped", r"DOCUMENT", 1)),
    (b"header-q0.txt", _bytes(b"DOCUMENT:Q0  09-AUG-2001\nTITLE   :x\n"), ("skipped", r"DOCUMENT", 1)),
    (b"cut-header.txt", _bytes(article(400002)[:24]), ("indexed", 400002, 0)),  # "DOCUMENT:Q400002  09-AUG"
    (b"cut-title.txt", _bytes(article(400003)[:60]), ("indexed", 400003, 0)),
    (b"cut-utf8.txt", _utf8_cut, ("indexed", 400007, 0)),
    (b"crlf.txt", _bytes(article(400004).replace(b"\n", b"\r\n")), ("indexed", 400004, 0)),
    (b"cp1252.txt", _bytes(article(400005).replace(b"Generated", b"G\xe9n\xe9rated")), ("indexed", 400005, 0)),
    (b"bom.txt", _bytes(b"\xef\xbb\xbf" + article(400006)), ("indexed", 400006, 0)),
    (b"caf\xe9.txt", _bytes(article(400008)), ("indexed", 400008, 0)),           # not UTF-8: Latin-1 name
    (b"\xff\xfe\x80.txt", _bytes(b"\x00\xff" * 64), ("skipped", r"binary", 1)),
    (b"big.txt", _sparse(50 * 1024 * 1024, article(400009)), ("skipped", r"too large", 1)),
    (b"just-over.txt", _sparse(MAX_FILE_BYTES + 1, article(400010)), ("skipped", r"too large", 1)),
    (b"fifo.txt", _fifo, ("skipped", r"not a regular file", 1)),
    (b"zero.txt", _symlink("/dev/zero"), ("skipped", r"not a regular file", 1)),
    (b"dangling.txt", _symlink("nowhere.txt"), ("skipped", r"cannot stat", 1)),
    (b"self.txt", lambda p: os.symlink(p, p), ("skipped", r"cannot stat", 1)),
    (b"loop-a.txt", _loop_pair, ("skipped", r"cannot stat", 2)),
    (b"dirloop", lambda p: os.symlink(p.parent, p), ("none", None, 0)),
    (b"dir.txt", lambda p: p.mkdir(), ("none", None, 0)),
    (b"nested/deeper/Q400011.txt", lambda p: (p.parent.mkdir(parents=True), p.write_bytes(article(400011))),
     ("indexed", 400011, 0)),
]


def _hostile_id(case) -> str:
    return os.fsdecode(case[0]).encode("ascii", "backslashreplace").decode()


def _make(folder: Path, name: bytes, make) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), name)))
    make(path)
    return path


@posix_only
@pytest.mark.parametrize("name, make, expect", HOSTILE, ids=[_hostile_id(c) for c in HOSTILE])
def test_hostile_file_is_reported_and_nothing_valid_is_lost(tmp_path, seed_dir, name, make, expect):
    _make(seed_dir, name, make)
    ix = tmp_path / "ix"
    with _FifoRescuer(seed_dir):
        r = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(ix), "--json"])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    data = json.loads(r.stdout)
    kind, what, count = expect  # what: a reason pattern, or the Q-number indexed
    want = {"Q168845", "Q280515"} | ({f"Q{what}"} if kind == "indexed" else set())
    with KnowledgeBase.open(ix) as kb:
        assert sorted(kb.engine.iter_ids()) == sorted(want)
        if kind == "indexed":
            art = kb.get(f"Q{what}")
            assert art.id == f"Q{what}"
            assert kb.search(f"Q{what}")[0].id == art.id
            if name == b"cut-utf8.txt":  # still read as UTF-8, not as Windows-1252
                assert art.title == "Caf\u00e9 cr\u00e8me \u00e9v\u00e9nement"
    assert data["articles"] == len(want) and data["added"] == len(want)
    skipped = data["skipped"]
    if kind == "skipped":
        assert len(skipped) == count, skipped
        for s in skipped:
            assert re.search(what, s["reason"]), s
            assert s["path"].startswith(str(seed_dir))
            s["path"].encode("utf-8")  # printable: undecodable bytes come escaped
        shown = name.decode("utf-8", "backslashreplace")
        assert any(s["path"].endswith(shown) for s in skipped), (shown, skipped)
    else:
        assert skipped == []
    # The text summary names each skipped file on stderr, one line each.
    with _FifoRescuer(seed_dir):
        r = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(ix)])
    assert r.exit_code == 0
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == len(skipped)
    assert f"{len(skipped)} skipped" in r.stdout
    assert f"0 added, 0 updated, 0 removed, {len(want)} unchanged" in r.stdout


@posix_only
def test_all_hostile_files_at_once_in_a_real_process(tmp_path, seed_dir, runs):
    for name, make, _ in HOSTILE:
        _make(seed_dir, name, make)
    ix = tmp_path / "ix"
    with _FifoRescuer(seed_dir):  # a FIFO once made this hang
        run = Run(tmp_path, ["index", str(seed_dir), "--index", str(ix), "--json"], hooks=False)
        runs.append(run)
        rc = run.finish()
    out = run.stdout()
    assert rc == 0, run.stderr()
    assert "Traceback" not in run.stderr()
    data = json.loads(out)
    indexed = {f"Q{e[1]}" for _, _, e in HOSTILE if e[0] == "indexed"} | {"Q168845", "Q280515"}
    assert data["articles"] == len(indexed)
    assert len(data["skipped"]) == sum(e[2] for _, _, e in HOSTILE if e[0] == "skipped")
    assert len({s["path"] for s in data["skipped"]}) == len(data["skipped"])
    patterns = {n.decode("utf-8", "backslashreplace"): e[1] for n, _, e in HOSTILE if e[0] == "skipped"}
    patterns["loop-b.txt"] = patterns["loop-a.txt"]
    for s in data["skipped"]:
        assert re.search(patterns[os.path.basename(s["path"])], s["reason"]), s
    with KnowledgeBase.open(ix) as kb:
        assert set(kb.engine.iter_ids()) == indexed
    # Run again: the same files skipped, the rest unchanged, still exit 0.
    with _FifoRescuer(seed_dir):
        run = Run(tmp_path, ["index", str(seed_dir), "--index", str(ix), "--json"], hooks=False)
        runs.append(run)
        assert run.finish() == 0
    again = json.loads(run.stdout())
    assert (again["added"], again["updated"], again["removed"], again["unchanged"]) == (0, 0, 0, len(indexed))
    assert again["skipped"] == data["skipped"]


def test_large_file_is_skipped_without_reading_it(tmp_path, seed_dir):
    _sparse(50 * 1024 * 1024, article(400009))(seed_dir / "big.txt")
    index_paths(str(tmp_path / "warm"), [str(seed_dir / "Q168845.TXT")])  # imports and caches
    tracemalloc.start()
    try:
        report = index_paths(str(tmp_path / "ix"), [str(seed_dir)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [
        ("big.txt", "too large for an article (50 MB)")]
    assert report.added == 2
    assert peak < 25 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB: the 50 MB file was read"


@pytest.mark.skipif(os.name == "posix" and os.geteuid() == 0,
                    reason="runs as root: chmod 000 does not stop root reading (see the injected-error test)")
def test_unreadable_file_and_folder_chmod(tmp_path, seed_dir):
    f = seed_dir / "locked.txt"
    f.write_bytes(article(400020))
    sub = seed_dir / "private"
    sub.mkdir()
    (sub / "Q400021.txt").write_bytes(article(400021))
    f.chmod(0)
    sub.chmod(0)
    try:
        report = index_paths(str(tmp_path / "ix"), [str(seed_dir)])
    finally:
        f.chmod(0o644)
        sub.chmod(0o755)
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert "Permission denied" in reasons["locked.txt"] and reasons["locked.txt"].startswith("unreadable")
    assert "unreadable folder" in reasons["private"]
    assert report.added == 2


def test_unreadable_file_injected_error(tmp_path, seed_dir, monkeypatch):
    """EACCES on open, as for a chmod 000 file read by a non-root user."""
    bad = seed_dir / "locked.txt"
    bad.write_bytes(article(400020))
    real_os_open, real_open = os.open, open

    def deny(path):
        if os.fspath(path) == str(bad):
            raise PermissionError(errno.EACCES, "Permission denied", str(bad))

    monkeypatch.setattr(os, "open", lambda path, *a, **k: deny(path) or real_os_open(path, *a, **k))
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: deny(path) or real_open(path, *a, **k))
    r = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(tmp_path / "ix"), "--json"])
    monkeypatch.undo()
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["skipped"] == [{"path": str(bad), "reason": "unreadable: Permission denied"}]
    assert data["added"] == 2


@pytest.mark.parametrize("later_date", [True, False])
def test_duplicate_q_numbers_summary_names_the_winner(tmp_path, later_date):
    d = tmp_path / "dups"
    d.mkdir()
    a, b = d / "a-first.txt", d / "b-second.txt"
    a.write_bytes(article(400030, title="Copy A widget400030", date="09-AUG-2002" if later_date else "09-AUG-2001"))
    b.write_bytes(article(400030, title="Copy B widget400030"))
    r = CliRunner().invoke(cli, ["index", str(d), "--index", str(tmp_path / "ix"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    kept, dropped = (a, b) if later_date else (b, a)  # newer date wins, else the later path
    assert data["duplicates"] == [{"id": "Q400030", "kept": str(kept), "dropped": str(dropped)}]
    assert (data["added"], data["articles"], data["skipped"]) == (1, 1, [])
    with KnowledgeBase.open(tmp_path / "ix") as kb:
        assert kb.get("Q400030").title == ("Copy A widget400030" if later_date else "Copy B widget400030")
    r = CliRunner().invoke(cli, ["index", str(d), "--index", str(tmp_path / "ix2")])
    assert f"duplicate Q400030: kept {kept}, dropped {dropped}" in r.stderr


@posix_only
def test_undecodable_names_round_trip_and_print(tmp_path, runs):
    root = os.path.join(os.fsencode(tmp_path), b"r\xe9pertoire")
    os.mkdir(root)
    for i, name in enumerate([b"\xe9t\xe9.txt", b"\x80\x81.TXT"]):
        with open(os.path.join(root, name), "wb") as f:
            f.write(article(400040 + i))
    with open(os.path.join(root, b"\xfe-junk.txt"), "wb") as f:
        f.write(b"\x00" * 10)
    ix = tmp_path / "ix"
    for attempt in range(2):
        run = Run(tmp_path, ["index", root, "--index", str(ix), "--json"], hooks=False)
        runs.append(run)
        assert run.finish() == 0, run.stderr()
        data = json.loads(run.stdout())
        assert data["articles"] == 2
        assert [s["reason"] for s in data["skipped"]] == ["binary file (NUL bytes)"]
        assert data["skipped"][0]["path"].endswith("r\\xe9pertoire/\\xfe-junk.txt")
        assert (data["added"], data["unchanged"]) == ((2, 0) if attempt == 0 else (0, 2))
    run = Run(tmp_path, ["index", root, "--index", str(ix)], hooks=False)
    runs.append(run)
    assert run.finish() == 0
    assert "skipped" in run.stderr() and "\\xfe-junk.txt" in run.stderr()
    with KnowledgeBase.open(ix) as kb:
        assert kb.get("Q400040").id == "Q400040"
        assert [h.id for h in kb.search("widget400041")][:1] == ["Q400041"]
    # A path that does not exist, with an undecodable name: one line, exit 1.
    r = CliRunner().invoke(cli, ["index", os.fsdecode(root + b"-missing\xff"), "--index", str(ix)])
    _one_line_error(r, "no such file or directory")


# --- hostile queries -----------------------------------------------------------

QUERIES = {
    "empty": "",
    "spaces": "   \t  ",
    "stop words": "the of and to",
    "quote": '"',
    "unbalanced quote": '"redirector unable',
    "trailing quote": 'redirector"',
    "open paren": "(",
    "close paren": ")",
    "unbalanced parens": "((event 3031",
    "extra close": "event 3031))",
    "empty parens": "(())",
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "plus": "+",
    "minus": "-",
    "operators only": "AND OR NOT + -",
    "dangling AND": "event AND",
    "leading OR": "OR event",
    "NOT NOT": "NOT NOT",
    "star": "*",
    "question": "?",
    "stars": "***",
    "wildcards": "*?*?",
    "suffix wildcard": "redirect*",
    "prefix wildcard": "*lkp",
    "inner wildcard": "ev?nt",
    "single char wildcard": "e*",
    "field only": "title:",
    "field star": "title:*",
    "field paren": "title:(",
    "two fields": "title:product:",
    "unknown field": "nosuchfield:event",
    "open range": "date:[2001-01-01 TO",
    "bad range": "date:[zzz TO aaa]",
    "star range": "[* TO *]",
    "braces": "{event}",
    "boost": "event^",
    "huge boost": "event^1e400",
    "nan boost": "event^nan",
    "slop": '"event 3031"~99999999999999999999',
    "tilde": "~",
    "caret": "^",
    "colon": ":",
    "backslash": "\\",
    "long letters": "x" * 10000,
    "long words": "event " * 1700,
    "long parens": "(" * 10000,
    "long quotes": '"' * 10000,
    "long NOTs": "NOT " * 2500,
    "long wildcards": "e*" * 5000,
    "long fields": "title:" * 1700,
    "controls": "\x01\x02\x1b[31mevent\x7f",
    "NUL": "\x00",
    "NUL inside": "event\x003031",
    "bell and tabs": "\a\b\t\v\f",
    "emoji": "\U0001F600",
    "emoji and word": "\U0001F4A5 redirector",
    "RTL": "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "RTL override": "\u202eredirector\u202c",
    "combining": "e\u0301ve\u0301nement",
    "lone combining": "\u0301\u0301",
    "zero width": "\u200b\u200c\u200d\ufeff",
    "replacement": "\ufffd",
    "private use": "\ue000\U0010fffd",
    "noncharacter": "\uffff\U0010ffff",
    "ligature": "\ufb01le",
    "CJK": "\u6587\u4ef6\u5220\u9664",
    "fullwidth": "\uff45\uff56\uff45\uff4e\uff54",
    "Turkish I": "\u0130STANBUL",
    "article number": "Q168845",
    "big number": "Q99999999999999999999",
    "negative code": "-2147467259",
    "hex": "0x0000000A",
}


@pytest.fixture(scope="module")
def query_index(tmp_path_factory):
    ix = tmp_path_factory.mktemp("queries") / "index"
    KnowledgeBase.build(ix, [DATA])
    return ix


def _check_api(kb, text):
    try:
        res = kb.results(text, limit=5)
    except KBSearchError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "\r" not in msg
        return None
    json.dumps(res.to_dict(), allow_nan=False)
    assert len(res.hits) <= 5 and res.total >= len(res.hits)
    assert {h.id for h in res.hits} <= {"Q168845", "Q280515"}
    return res


@pytest.mark.parametrize("text", QUERIES.values(), ids=QUERIES.keys())
def test_hostile_query_api(query_index, text):
    with KnowledgeBase.open(query_index) as kb:
        res = _check_api(kb, text)
    if text.strip() in ("", "the of and to"):
        assert res is None
    if text == "Q168845":
        assert res.hits[0].id == "Q168845"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", QUERIES.values(), ids=QUERIES.keys())
def test_hostile_query_cli(query_index, text, as_json):
    args = ["search", "--index", str(query_index), "--limit", "5"] + (["--json"] if as_json else []) + ["--", text]
    r = CliRunner().invoke(cli, args)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 1:
        assert r.output.startswith("Error: ") and len(r.output.strip().splitlines()) == 1, r.output
    else:
        assert r.exit_code == 0, r.output
        if as_json:
            json.loads(r.stdout)
    if text.strip() in ("", "the of and to"):
        assert r.exit_code == 1


@pytest.mark.parametrize("option, value", [
    ("--product", "\U0001F600"), ("--product", "\x00"), ("--product", "(" * 5000), ("--version", "*"),
    ("--version", "\x00"), ("--keyword", "("), ("--keyword", "\u202e"),
])
def test_hostile_filters(query_index, option, value):
    r = CliRunner().invoke(cli, ["search", "--index", str(query_index), option, value, "--", "event"])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 1), r.output
    if r.exit_code == 1:
        assert r.output.startswith("Error: ") and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("aid", ["", "Q", "Q0", "\x00", "Q168845\x00", "Q99999999", "\U0001F600", "-1", "Q-1"])
def test_hostile_show_ids(query_index, aid):
    r = CliRunner().invoke(cli, ["show", "--index", str(query_index), "--", aid])
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error: ") and len(r.output.strip().splitlines()) == 1


def test_open_knowledge_base_follows_its_own_index_runs(seed_dir, seed_index):
    """kb.index() on an open KnowledgeBase: updated articles once, removed ones gone."""
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.stats()["articles"] == 2
        assert [h.id for h in kb.search("redirector")] == ["Q168845"]
        p = seed_dir / "Q168845.TXT"
        p.write_bytes(p.read_bytes().replace(b"Produce NT Event 3031", b"Produce Event 3031 Again"))
        os.utime(p, ns=(1, 1))
        assert kb.index([seed_dir]).updated == 1
        assert kb.stats()["articles"] == 2
        assert [(h.id, h.title) for h in kb.search("redirector")] == [
            ("Q168845", "Windows NT SMS Clients Produce Event 3031 Again")]
        (seed_dir / "Q280515.TXT").unlink()
        assert kb.index([seed_dir]).removed == 1
        assert kb.stats()["articles"] == 1
        assert sorted(kb.engine.iter_ids()) == ["Q168845"]
        with pytest.raises(KBSearchError, match="not in the index"):
            kb.get("Q280515")
        write_articles(seed_dir, OLD)
        assert kb.index([seed_dir], rebuild=True).added == 1 + len(OLD)
        assert kb.stats()["articles"] == 1 + len(OLD)
        assert [h.id for h in kb.search("widget100003")][:1] == ["Q100003"]


def test_article_stays_findable_after_updates_and_removals(seed_dir, seed_index):
    p = seed_dir / "Q168845.TXT"
    p.write_bytes(p.read_bytes().replace(b"Produce NT Event 3031", b"Produce Event 3031 Again"))
    os.utime(p, ns=(1, 1))
    (seed_dir / "Q280515.TXT").unlink()
    index_paths(str(seed_index), [str(seed_dir)])
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.stats()["articles"] == 1
        res = kb.results("redirector unable to delete")
        assert res.total == 1
        assert [h.id for h in res.hits] == ["Q168845"]
