"""Find article files, turn them into index documents, and commit them.

An index run is incremental: files are compared with what the index holds
(path, size and modification time), so only new or changed files are parsed
and files that are gone have their articles removed. The work is split over
worker processes, each writing its own segment (its postings go to disk
whenever they reach a memory budget, and are merged into the segment at
the end); the parent holds the index lock and commits everything in one
step, so an interrupted run leaves the previous index as it was.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import engine, terms
from .abbreviations import definition_terms
from .analysis import analyze_list, analyze_pieces, surface_words
from .article import (SYMPTOM_SECTIONS, Article, NotAnArticle, parse_article, prose_indent, reference_runs,
                      symptom_pieces)
from .errors import KBSearchError
from .ranking.config import INDEX_DEFAULT, IndexWeights

# Files larger than this are not articles (the largest real one is ~180 KB).
MAX_FILE_BYTES = 8 * 1024 * 1024
# Below this many files a run stays in one process: forking costs more.
PARALLEL_MIN_FILES = 2000
# A worker moves the postings it holds to a run file on disk whenever they
# reach this many MB (as the engine estimates them), and merges the runs
# into its segment at the end: a build's memory does not grow with the
# archive, and the index is the same whatever the budget.
POSTINGS_MB = 160.0
# Written into an index built from the default corpus's sample articles on
# first use: the first run that indexes other paths into it starts afresh,
# so the samples never end up mixed with the user's own articles.
SAMPLES_MARKER = ".kbsearch-samples"


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class Duplicate:
    id: str
    kept: str
    dropped: str


@dataclass
class Truncated:
    """An article indexed by its header alone: its file has no body text."""

    path: str
    id: str


@dataclass
class IndexReport:
    """What an index run did; the CLI prints it, callers inspect it."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    # Articles this run indexed whose files stop after the header.
    truncated: list[Truncated] = field(default_factory=list)
    seconds: float = 0.0
    articles: int = 0
    # The files whose articles were added, updated and removed, by path.
    files: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "updated": [], "removed": []})
    # Sample articles of the default corpus this run left out (see SAMPLES_MARKER).
    samples_removed: int = 0

    @property
    def indexed_nothing(self) -> bool:
        """Whether the run found files but indexed none of them (all skipped)."""
        return bool(self.skipped) and not (self.added or self.updated or self.unchanged)

    def to_dict(self, files: bool = False) -> dict:
        """The summary as JSON-ready data (with ``files``, the paths of each kind too)."""
        d = {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "duplicates": [{"id": d.id, "kept": d.kept, "dropped": d.dropped} for d in self.duplicates],
            "truncated": [{"path": t.path, "id": t.id} for t in self.truncated],
            "seconds": round(self.seconds, 3),
            "articles": self.articles,
            "samples_removed": self.samples_removed,
        }
        if files:
            d["files"] = self.files
        return d


# --- finding files ----------------------------------------------------------

def display_path(path: str) -> str:
    """A printable, UTF-8-safe form of a path (undecodable bytes escaped)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def find_files(roots: Iterable[str], skipped: list[Skipped]) -> dict[str, tuple[str, str]]:
    """``{key: (real path, stamp)}`` for every ``*.txt`` under ``roots`` (any case).

    A root that is a file is taken whatever its name. Directory symlinks are
    not followed, so loops cannot trap the walk; unreadable folders are
    reported in ``skipped``.
    """
    found: dict[str, tuple[str, str]] = {}
    for root in roots:
        root = os.path.abspath(root)
        if os.path.isfile(root):
            _add(found, root, skipped)
            continue
        if not os.path.isdir(root):
            raise KBSearchError(f"no such file or directory: {display_path(root)}")

        def onerror(e: OSError) -> None:
            skipped.append(Skipped(display_path(e.filename or root), f"unreadable folder: {e.strerror}"))

        for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
            dirnames.sort()
            for name in sorted(filenames):
                if name.lower().endswith(".txt"):
                    _add(found, os.path.join(dirpath, name), skipped)
    return found


def _add(found: dict, path: str, skipped: list[Skipped]) -> None:
    try:
        st = os.stat(path)
    except OSError as e:
        skipped.append(Skipped(display_path(path), f"cannot stat: {e.strerror}"))
        return
    found[display_path(path)] = (path, f"{st.st_mtime_ns}:{st.st_size}")


# --- turning articles into documents ----------------------------------------

def anchor_terms(art: Article) -> list[str]:
    """The ``anchor`` terms of an article: each word of the topic it gives an
    article it cites, as ``<word>@<cited id>``, and each two words next to
    each other in that topic as ``<word>><word>@<cited id>`` (the topic's
    phrase evidence, for the words as a query analyses them)."""
    out: set[str] = set()
    for c in art.citations:
        if not c.topic:
            continue
        out.update(terms.anchor_term(t, c.id) for _, t in analyze_list(c.topic))
        for topic in c.topic.split("; "):
            words = [t for _, t in analyze_list(topic, split_compounds=False)]
            out.update(terms.anchor_term(terms.anchor_key(a, b), c.id) for a, b in zip(words, words[1:]) if a != b)
    return sorted(out)


def article_document(art: Article, source: str, stamp: str, weights: IndexWeights = INDEX_DEFAULT) -> dict:
    """The engine document for one article: pre-analysed fields plus stored
    values; ``weights``: the section weights of the ``body`` composite."""
    pos = 0
    body: list[tuple[float, list[tuple[int, str]]]] = []
    per_field: dict[str, list] = {"symptoms": [], "message": []}

    def add(text: str, weight: float, also: str | None = None, stride: int = 1) -> list:
        nonlocal pos
        toks = analyze_list(text, pos)
        if toks and stride != 1:
            toks = [(pos + (p - pos) * stride, t) for p, t in toks]
        if toks:
            pos = toks[-1][0] + weights.section_gap
            body.append((weight, toks))
            if also is not None:
                per_field[also].append((1.0, toks))
        return toks

    def add_symptoms(pieces: list[tuple[str, str]], weight: float) -> None:
        # SYMPTOMS as one run of text. The messages it shows weigh
        # ``weights.message``; they and what its prose quotes are also the
        # ``message`` field, at the same positions.
        nonlocal pos
        parts = analyze_pieces([p for p, _ in pieces], pos)
        toks = [t for part in parts for t in part]
        if toks:
            pos = toks[-1][0] + weights.section_gap
            kinds = [kind for _, kind in pieces]
            prose = [t for part, kind in zip(parts, kinds) if kind != "shown" for t in part]
            shown = [t for part, kind in zip(parts, kinds) if kind == "shown" for t in part]
            for w, ts in ((weight, prose), (weights.message, shown)):
                if ts:
                    body.append((w, ts))
            per_field["symptoms"].append((1.0, toks))
            message = [t for part, kind in zip(parts, kinds) if kind != "prose" for t in part]
            if message:
                per_field["message"].append((1.0, message))

    title_toks = add(art.title, weights.of("title"))
    if art.applies_to:
        add("\n".join(art.applies_to), weights.of("applies to"))
    if art.preamble:
        add(art.preamble, weights.default)
    for sec in art.sections:
        name = sec.name
        also = "symptoms" if name in SYMPTOM_SECTIONS else None
        indent = prose_indent(sec.text) if also else 0
        runs = reference_runs(sec.text) or [("", False)]
        for i, (text, ref) in enumerate(runs):
            if also and not ref:
                add_symptoms(([(sec.heading, "prose")] if i == 0 else []) + symptom_pieces(text, indent),
                             weights.of(name))
                continue
            if i == 0 and not ref:
                text = sec.heading + "\n" + text
            elif i == 0:
                add(sec.heading, weights.of(name), also)
            if ref:
                add(text, weights.reference, stride=weights.reference_stride)
            else:
                add(text, weights.of(name), also)
    if art.query_words:
        add(art.query_words, weights.of("query words"))

    keywords = {k.lower() for k in art.footer_keywords or art.keywords}
    keywords |= {k.lower() for k in art.technology}
    if art.issue_type:
        keywords.add(art.issue_type.lower())
    if art.solution_type:
        keywords.add(art.solution_type.lower())
    versions = art.versions or _versions_from(art.version_line)
    version_terms = set()
    for v in versions:
        version_terms.add(v.lower())
        version_terms.add(_norm_version(v))
    for pv in art.prod_ver:
        for v in pv.versions:
            if pv.platform:
                version_terms.add(f"{pv.platform.lower()}:{_norm_version(v)}")
    product_text = " ".join([art.product, art.tag] + art.platforms)
    date = art.date.isoformat() if art.date else ""

    doc = {
        "id": art.id,
        "title": [(1.0, title_toks)],
        "_stored_title": art.title,
        "body": body,
        "product": [(1.0, analyze_list(product_text))],
        "_stored_product": art.product,
        "version": " ".join(sorted(version_terms)),
        "_stored_version": versions,
        "keyword": " ".join(sorted(keywords)),
        "tag": art.tag.lower(),
        "issue": art.issue_type.lower(),
        "date": date,
        "cites": " ".join(terms.cites_term(c.id) for c in art.citations),
        "anchor": " ".join(anchor_terms(art)),
        "words": " ".join(sorted(surface_words(art.text, min_len=4))),
        terms.ABBREV_FIELD: "\n".join(definition_terms(art.text)),
        "source": source,
        "stamp": stamp,
        "prodname": art.product or "(none)",
        "raw": art.text,  # as it is: Whoosh compresses a document's stored fields together
        "encoding": art.encoding,
    }
    for name, parts in per_field.items():
        if parts:
            doc[name] = parts
    return doc


def _versions_from(line: str) -> list[str]:
    out: list[str] = []
    for part in line.split(";"):
        for v in part.partition(":")[2].split(","):
            if v.strip() and v.strip() not in out:
                out.append(v.strip())
    return out


def _norm_version(v: str) -> str:
    """``"4.00"`` -> ``"4.0"``, ``"1.20"`` -> ``"1.2"``; other shapes unchanged."""
    v = v.lower().strip()
    if "." in v and v.replace(".", "").isdigit():
        head, _, tail = v.partition(".")
        tail = tail.rstrip("0") or "0"
        return f"{head.lstrip('0') or '0'}.{tail}"
    return v


def read_article(path: str) -> Article:
    """Read one file with the size and type checks an index run needs."""
    try:
        # O_NONBLOCK: opening a FIFO named *.txt must not wait for a writer;
        # the fstat below then refuses it (and devices) on the open handle.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise NotAnArticle("not a regular file")
            if st.st_size > MAX_FILE_BYTES:
                raise NotAnArticle(f"too large for an article ({st.st_size // (1024 * 1024)} MB)")
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise NotAnArticle(f"unreadable: {e.strerror or e}") from None
    return parse_article(data, source=path)


# --- one worker's share -----------------------------------------------------

@dataclass
class _Done:
    """A worker's account of one file: the doc's segment-local number, or why not."""

    key: str
    stamp: str
    id: str = ""
    date: str = ""
    docnum: int = -1
    reason: str = ""
    truncated: bool = False


def _work(index_dir: str, items: list[tuple[str, str, str]], counter=None,
          rebuild: bool = False, weights: IndexWeights = INDEX_DEFAULT,
          postings_mb: float = POSTINGS_MB) -> tuple[object, list[_Done]]:
    """Parse and index ``items`` ((key, path, stamp)) into one new segment
    (for a ``rebuild``, with every field of today's schema), holding at most
    ``postings_mb`` of postings in memory."""
    done: list[_Done] = []

    def docs():
        n = 0
        for i, (key, path, stamp) in enumerate(items):
            try:
                art = read_article(path)
            except NotAnArticle as e:
                done.append(_Done(key, stamp, reason=str(e)))
            else:
                done.append(_Done(key, stamp, art.id, art.date.isoformat() if art.date else "", n,
                                  truncated=art.truncated))
                n += 1
                yield article_document(art, key, stamp, weights)
            if counter is not None and (i & 63) == 63:
                with counter.get_lock():
                    counter.value += 64
                if _PARENT is not None and os.getppid() != _PARENT:
                    os._exit(1)  # the run was killed: its lock is gone, stop writing
        if counter is not None:
            with counter.get_lock():
                counter.value += len(items) & 63

    seg = engine.write_segment(index_dir, docs(), current_schema=rebuild, budget_mb=postings_mb)
    return seg, done


def _work_star(args):
    return _work(*args[:2], counter=_COUNTER, rebuild=args[2], weights=args[3], postings_mb=args[4])


_COUNTER = None
_PARENT = None


def _init_worker(counter, parent: int) -> None:
    global _COUNTER, _PARENT
    _COUNTER = counter
    _PARENT = parent


# --- the run ----------------------------------------------------------------

# ``(done, total, stage)``: files read so far of all to read, and the
# stage, "reading" or (the files all read) "committing".
Progress = Callable[[int, int, str], None]


def index_paths(index_dir: str, roots: Iterable[str], *, rebuild: bool = False,
                procs: int | None = None, wait: bool = False,
                progress: Progress | None = None, weights: IndexWeights = INDEX_DEFAULT,
                postings_mb: float = POSTINGS_MB) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with the files under ``roots``
    (``weights``: the index-time section weights, for experiments;
    ``postings_mb``: each worker's memory budget, see :data:`POSTINGS_MB`)."""
    t0 = time.perf_counter()
    roots = list(roots)
    if not roots:
        raise KBSearchError("nothing to index: give one or more files or folders")
    ix = engine.open_index(index_dir) if engine.index_exists(index_dir) else engine.create_index(index_dir)
    writer = engine.Writer(ix, timeout=3600.0 if wait else 0.0)
    marker = os.path.join(index_dir, SAMPLES_MARKER)
    samples = os.path.exists(marker) and not _only_samples(marker, roots)
    try:
        before = ix.doc_count() if samples else 0
        report = _run(ix, writer, index_dir, roots, rebuild or samples, procs, progress, weights, postings_mb)
    except BaseException:
        writer.cancel()
        raise
    if samples:
        report.samples_removed = before
        os.remove(marker)
    report.seconds = time.perf_counter() - t0
    return report


def mark_samples(index_dir: str, corpus: str) -> None:
    """Record that the index at ``index_dir`` holds only the sample articles
    of ``corpus`` (the default corpus, built on first use)."""
    with open(os.path.join(index_dir, SAMPLES_MARKER), "w", encoding="utf-8") as f:
        f.write(os.path.abspath(corpus) + "\n")


def _only_samples(marker: str, roots: list[str]) -> bool:
    """Whether ``roots`` are the sample corpus the ``marker`` names."""
    with open(marker, encoding="utf-8") as f:
        corpus = f.read().strip()
    return all(os.path.abspath(r) == corpus for r in roots)


def _run(ix, writer, index_dir, roots, rebuild, procs, progress, weights, postings_mb) -> IndexReport:
    report = IndexReport()
    files = find_files(roots, report.skipped)
    indexed = {} if rebuild else engine.read_sources(ix)
    # Which indexed files lie under the roots scanned now (only those can be "gone").
    abs_roots = [display_path(os.path.abspath(r)) for r in roots]

    def under_roots(key: str) -> bool:
        return any(key == r or key.startswith(r.rstrip(os.sep) + os.sep) for r in abs_roots)

    todo = []
    for key, (path, stamp) in files.items():
        old = indexed.get(key)
        if old is not None and old[0] == stamp:
            report.unchanged += 1
        else:
            todo.append((key, path, stamp))
    gone = [k for k in indexed if k not in files and under_roots(k)]

    segments, done = _parallel(index_dir, todo, procs, progress, rebuild, weights, postings_mb)

    # Settle duplicate Q-numbers: the newer article wins, then the later path.
    best: dict[str, _Done] = {}
    by_seg: list[tuple[object, _Done]] = []
    for seg, results in zip(segments, done):
        for d in results:
            if d.reason:
                report.skipped.append(Skipped(d.key, d.reason))
                continue
            by_seg.append((seg, d))
            cur = best.get(d.id)
            if cur is None or (d.date, d.key) > (cur.date, cur.key):
                if cur is not None:
                    report.duplicates.append(Duplicate(d.id, kept=d.key, dropped=cur.key))
                best[d.id] = d
            else:
                report.duplicates.append(Duplicate(d.id, kept=cur.key, dropped=d.key))
    # Against what the index already holds from files not re-read now.
    reread = {d.key for results in done for d in results}
    for key, (stamp, aid, date) in indexed.items():
        d = best.get(aid)
        if d is None or key in reread or key in gone:
            continue
        if (date, key) > (d.date, d.key):
            report.duplicates.append(Duplicate(aid, kept=key, dropped=d.key))
            del best[aid]
        else:
            report.duplicates.append(Duplicate(aid, kept=d.key, dropped=key))
    winners = {id(d) for d in best.values()}
    for seg, d in by_seg:
        if id(d) not in winners:
            seg.delete_document(d.docnum)

    indexed_ids = {aid for key, (_, aid, _) in indexed.items() if key not in gone}
    deleted = 0
    if not rebuild:
        report.removed = writer.delete_sources(gone)
        deleted = report.removed + writer.delete_sources(k for k in reread if k in indexed)
        deleted += writer.delete_ids(aid for aid in best if aid in indexed_ids)
    # Updated: an article the index held, from whichever file wins now.
    report.files["updated"] = sorted(d.key for aid, d in best.items() if aid in indexed_ids)
    report.files["added"] = sorted(d.key for aid, d in best.items() if aid not in indexed_ids)
    report.files["removed"] = sorted(gone)
    report.updated = len(report.files["updated"])
    report.added = len(best) - report.updated
    report.truncated = sorted((Truncated(d.key, aid) for aid, d in best.items() if d.truncated),
                              key=lambda t: t.path)
    # A segment whose every article lost to a duplicate would only add files.
    live = [s for s in segments if s is not None and s.deleted_count() < s.doc_count_all()]
    writer.discard([s for s in segments if s is not None and s not in live])
    if progress:
        progress(len(todo), len(todo), "committing")
    if live or deleted or rebuild:
        writer.commit(live, replace_all=rebuild)
    else:
        writer.close_unchanged()
    report.articles = ix.doc_count()
    return report


def _parallel(index_dir: str, todo: list, procs: int | None, progress: Progress | None, rebuild: bool = False,
              weights: IndexWeights = INDEX_DEFAULT, postings_mb: float = POSTINGS_MB):
    """Split ``todo`` over worker processes; returns (segments, per-segment results)."""
    total = len(todo)
    if total == 0:
        return [], []
    procs = procs or os.cpu_count() or 1
    if procs <= 1 or total < PARALLEL_MIN_FILES:
        counter = _LocalCounter()
        seg, done = _work(index_dir, todo, counter, rebuild, weights, postings_mb)
        if progress:
            progress(total, total, "reading")
        return [seg], [done]
    # Interleave by size so the shards finish together.
    shards = [todo[i::procs] for i in range(procs)]
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    with ctx.Pool(procs, initializer=_init_worker, initargs=(counter, os.getpid())) as pool:
        res = pool.map_async(_work_star, [(index_dir, s, rebuild, weights, postings_mb) for s in shards])
        while not res.ready():
            res.wait(0.2)
            if progress:
                progress(min(counter.value, total), total, "reading")
        out = res.get()
    if progress:
        progress(total, total, "reading")
    return [s for s, _ in out], [d for _, d in out]


class _LocalCounter:
    """Stands in for a shared counter when everything runs in one process."""

    class _Lock:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def __init__(self):
        self.value = 0
        self._lock = self._Lock()

    def get_lock(self):
        return self._lock
