"""kbsearch at N times the archive: make an N× archive, build it, and print the table.

    python benchmarks/scale.py [--archive DIR] [--work DIR] [--factor 4]
                               [--make-only]

The N× archive (``WORK/xN``) is the archive itself (hard links) plus N−1
copies whose articles have new ids: copy k gives each archive id the k-th
unused 6-digit Q-number of :func:`id_maps`, in the ``DOCUMENT:`` line, in the
file name and in every Q-number the copy cites, so that each copy repeats the
citation graph among its own articles. Q-numbers the archive cites but lacks
are left as they are (they are missing in every copy too). Ids stay 5 or 6
digits, the form the parser reads as a citation. ``WORK/xN/ids.tsv`` maps
each archive id to its copies' ids.

Sections of the table, each a function of its own:

- build: a full ``kbsearch index`` at 1×
  and N× (wall time; CPU time of every process, which other load on the
  machine changes less than wall time; peak RSS of the largest process, as GNU ``time``
  reports it and the target counts it, and of the whole process tree,
  summed from ``/proc`` every 50 ms), and the SQLite FTS5 build of the same
  parsed 1× text (``peers.py build-fts5``);
- queries: ``speed.py --index WORK/build/x1-index --index4
  WORK/build/xN-index`` alternates the same queries between the two
  indexes this script builds, in one process, beside FTS5.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import peers

# A reference as the parser reads one (kbsearch/article.py's _CITE_RE, _DOC_RE,
# _ARTICLE_ID_RE), on the file's bytes, any case.
_REF_RE = re.compile(rb"(?<![\w/.])(Q|KB)(\d{5,6})(?!\w)", re.IGNORECASE)
_NAME_RE = re.compile(r"^Q(\d+)\.TXT$", re.IGNORECASE)
# Copies take their ids from here up: above every id of the archive.
FIRST_COPY_ID = 400_000
LAST_ID = 999_999
COMPLETE = ".scale-complete"
BUILD_TARGETS = {"x_time": 4.3, "x_peak_mb": 1200.0, "fts5_ratio": 4.5}
RSS_POLL_SECONDS = 0.05


# --- the N× archive -------------------------------------------------------------

def archive_ids(archive: str) -> dict[int, str]:
    """``{article number: path}`` of every ``Q<number>.TXT`` under ``archive``."""
    out: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(archive):
        dirnames.sort()
        for name in sorted(filenames):
            m = _NAME_RE.match(name)
            if m:
                out[int(m.group(1))] = os.path.join(dirpath, name)
    return out


def cited_numbers(paths: Sequence[str]) -> set[int]:
    """Every Q-number the files name, as the parser would read it."""
    found: set[int] = set()
    for p in paths:
        with open(p, "rb") as f:
            found.update(int(m.group(2)) for m in _REF_RE.finditer(f.read()))
    return found


def id_maps(ids: Sequence[int], taken: set[int], copies: int) -> list[dict[int, int]]:
    """One ``{archive id: copy id}`` per copy: the free 6-digit numbers from
    :data:`FIRST_COPY_ID` up, in order, skipping every number in ``taken``."""
    ids = sorted(ids)
    need = len(ids) * copies
    free = (n for n in range(FIRST_COPY_ID, LAST_ID + 1) if n not in taken)
    pool = [n for _, n in zip(range(need), free)]
    if len(pool) < need:
        raise SystemExit(f"{copies} copies of {len(ids)} articles do not fit in 6-digit ids: use a smaller --factor")
    return [dict(zip(ids, pool[k * len(ids):(k + 1) * len(ids)])) for k in range(copies)]


def shifted(data: bytes, mapping: dict[int, int]) -> bytes:
    """``data`` with every Q-number in ``mapping`` replaced by its copy's number."""
    def sub(m: re.Match) -> bytes:
        new = mapping.get(int(m.group(2)))
        return m.group(0) if new is None else m.group(1) + str(new).encode()
    return _REF_RE.sub(sub, data)


def copy_path(root: Path, number: int) -> Path:
    """Where an article file with ``number`` goes: ``NNN/Q<number>.TXT``, as in the archive."""
    return root / f"{number:06d}"[:3] / f"Q{number}.TXT"


def make_archive(archive: str, dest: Path, factor: int) -> Path:
    """Write the ``factor``× archive at ``dest`` (kept if complete already); returns ``dest``."""
    if (dest / COMPLETE).exists():
        peers.log(f"{dest}: already made")
        return dest
    if dest.exists():
        peers._remove(dest)
    t0 = time.perf_counter()
    files = archive_ids(archive)
    maps = id_maps(list(files), cited_numbers(list(files.values())) | set(files), factor - 1)
    for number, src in files.items():
        target = copy_path(dest, number)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, target)
        except OSError:
            target.write_bytes(Path(src).read_bytes())
    for k, mapping in enumerate(maps, 1):
        for number, src in files.items():
            target = copy_path(dest, mapping[number])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(shifted(Path(src).read_bytes(), mapping))
        peers.log(f"  copy {k} written")
    with open(dest / "ids.tsv", "w", encoding="ascii") as f:
        f.write("archive\t" + "\t".join(f"copy{k}" for k in range(1, factor)) + "\n")
        for number in sorted(files):
            f.write("\t".join(f"Q{n}" for n in [number] + [m[number] for m in maps]) + "\n")
    (dest / COMPLETE).write_text(f"{factor}\n")
    peers.log(f"{dest}: {len(files) * factor} files in {time.perf_counter() - t0:.0f} s")
    return dest


# --- measuring a build ----------------------------------------------------------

@dataclass
class Build:
    """One measured build: wall time, CPU time (user + system, every
    process), the largest process's peak RSS, the tree's summed peak."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    tree_peak_mb: float


def _tree_rss_kb(root: int) -> int:
    """The summed RSS (KB) of ``root``'s descendants, read from ``/proc``."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{name}/statm", "rb") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        pid = int(name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(cmd: Sequence[str]) -> Build:
    """Run ``cmd`` (``peers.run_measured``) while polling its process tree's summed RSS."""
    peak = [0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(RSS_POLL_SECONDS):
            peak[0] = max(peak[0], _tree_rss_kb(os.getpid()))

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        run = peers.run_measured(cmd)
    finally:
        stop.set()
        t.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Build(run.seconds, cpu, run.peak_mb, peak[0] / 1024)


def build_index(roots: Sequence[str], index: Path) -> Build:
    """A full ``kbsearch index ROOTS --index INDEX -q --rebuild``, measured."""
    peers.log(f"build: {' '.join(roots)} -> {index}")
    b = measure(peers.kbsearch_cmd() + ["index", *roots, "--index", str(index), "-q", "--rebuild"])
    peers.log(f"  {b.seconds:.1f} s ({b.cpu_seconds:.0f} s CPU), peak {b.peak_mb:.0f} MB (one process), "
              f"{b.tree_peak_mb:.0f} MB (tree)")
    return b


def build_section(archive: str, scaled: Path, work: Path, factor: int) -> list[list[str]]:
    """Rows: 1× and N× builds, FTS5's 1× build, and the ratios the issue targets.

    The indexes are rebuilt in ``WORK/build`` on every run: never in place
    of an index something else may be reading.
    """
    out = work / "build"
    out.mkdir(exist_ok=True)
    one = build_index([archive], out / "x1-index")
    peers.log("build: sqlite-fts5 (1×)")
    fts = measure(peers.peers_cmd() + ["build-fts5", str(out), archive])
    peers.log(f"  {fts.seconds:.1f} s ({fts.cpu_seconds:.0f} s CPU), peak {fts.peak_mb:.0f} MB")
    big = build_index([str(scaled)], out / f"x{factor}-index")
    t = BUILD_TARGETS
    x = f"{factor}×"
    return [
        _row("build wall time, 1×", f"{one.seconds:.1f} s"),
        _row("build wall time, FTS5 1× (read, parse, insert)", f"{fts.seconds:.1f} s"),
        _row("1× build ÷ FTS5 build", f"{one.seconds / fts.seconds:.2f}×", f"≤ {t['fts5_ratio']}×",
             one.seconds / fts.seconds <= t["fts5_ratio"]),
        _row(f"build wall time, {x}", f"{big.seconds:.1f} s"),
        _row(f"{x} build ÷ 1× build", f"{big.seconds / one.seconds:.2f}×", f"≤ {t['x_time']}×",
             big.seconds / one.seconds <= t["x_time"]),
        _row("build peak RSS, 1× (largest process / tree)", f"{one.peak_mb:.0f} / {one.tree_peak_mb:.0f} MB"),
        _row("build CPU time (user + system), 1× / FTS5 1× / " + x,
             f"{one.cpu_seconds:.0f} / {fts.cpu_seconds:.0f} / {big.cpu_seconds:.0f} s"),
        _row(f"CPU time: 1× ÷ FTS5, {x} ÷ 1×",
             f"{one.cpu_seconds / fts.cpu_seconds:.2f}× / {big.cpu_seconds / one.cpu_seconds:.2f}×"),
        _row(f"build peak RSS, {x} (largest process / tree)", f"{big.peak_mb:.0f} / {big.tree_peak_mb:.0f} MB",
             f"≤ {t['x_peak_mb']:.0f} MB", big.peak_mb <= t["x_peak_mb"]),
    ]


def _row(name: str, value: str, target: str = "—", met: bool | None = None) -> list[str]:
    return [name, value, target, "—" if met is None else ("yes" if met else "no")]


# --- the run --------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    peers.add_common_args(ap)
    ap.add_argument("--factor", type=int, default=4, help="N: the archive plus N−1 copies (default 4)")
    ap.add_argument("--make-only", action="store_true", help="make WORK/xN and stop")
    args = ap.parse_args(argv)
    if args.factor < 1:
        ap.error("--factor must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    scaled = make_archive(args.archive, args.work / f"x{args.factor}", args.factor)
    if args.make_only:
        return
    rows = build_section(args.archive, scaled, args.work, args.factor)
    peers.print_table(["figure", "value", "target", "met"], rows)


if __name__ == "__main__":
    main()
