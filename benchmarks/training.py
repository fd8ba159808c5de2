"""Training judgments generated from the archive, for fitting the ranking weights.

Writes four judgment files (the format ``kbsearch eval`` reads) into
``--out-dir``, from articles that no dev judgments file names (relevant or
excluded: give every dev file with ``--leave-out``):

* ``train-errmsg.jsonl``: error-message fragments, half ``shown`` and half
  ``quoted`` (``fragments.py``'s generators);
* ``train-xref.jsonl``: citation topics (``citations.py --every-topic``),
  sampled;
* ``train-title.jsonl``: an article's title as a user might type it:
  lower-cased, the product and type prefixes (``XADM:``, ``PRB:``) dropped,
  sometimes a word or two dropped; relevant: every article with that title;
* ``train-symptom.jsonl``: a user-style description made from the first
  sentences of the article's SYMPTOMS, by rule (no language model): the
  most distinctive words (by idf over the archive) and a few common ones in
  their order, boilerplate ("you may receive the following") dropped, some
  KB words replaced by a user's word for them (the query vocabulary's
  tables read backwards: "stops responding" -> "freezes", "Windows NT" ->
  "nt"), 6 to 14 words, sometimes the product's short name; relevant: that
  article.

Every kind has ``--n`` judgments (default 600), sampled with ``--seed``.
The files hold archive text: write them outside the repository.

    python benchmarks/training.py --archive "$(../shared/kbarchive/path)" \\
        --leave-out ../shared/eval/dev-*.jsonl --out-dir /work/idx/fit/train
    python benchmarks/relevance.py --index ~/kb-index --judgments /work/idx/fit/train/train-*.jsonl

``--kinds`` makes some of them only (``title symptom`` needs one parse of
the archive; ``errmsg`` three, ``xref`` one).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import citations
import fragments
import peers
from kbsearch.analysis import STOP_WORDS
from kbsearch.article import SYMPTOM_SECTIONS, parse_file
from kbsearch.errors import KBSearchError

KINDS = ("errmsg", "xref", "title", "symptom")

# --- titles -------------------------------------------------------------------

# "XADM: ", "PRB: ", "ACC2000: ", "WD97: ", "FIX: INFO: " ...
PREFIX = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9/&+-]{0,11}\s*:\s+)+")
PUNCT = "\"'.,:;!?()[]{}<>`*"


def plain_words(text: str) -> list[str]:
    """Lower-cased words, outer punctuation stripped (``perfctrs.dll`` stays whole)."""
    return [w for w in (t.strip(PUNCT).lower() for t in text.split()) if w]


def title_key(title: str) -> str:
    return " ".join(plain_words(PREFIX.sub("", title)))


def title_query(title: str, rng: random.Random) -> str | None:
    """``title`` as a user might type it; None when under two words remain."""
    ws = plain_words(PREFIX.sub("", title))
    if len(ws) < 2:
        return None
    drop = rng.choices((0, 1, 2), (0.5, 0.35, 0.15))[0] if len(ws) >= 4 else 0
    for _ in range(drop):
        ws.pop(rng.randrange(len(ws)))
    return " ".join(ws)


# --- symptom descriptions -----------------------------------------------------

# Words of the articles' house style no user types.
BOILERPLATE = frozenset("""
    may might receive received following follows occur occurs occurred problem problems issue
    symptoms symptom attempt attempting attempts try trying tries when also however then one
    using use used uses computer microsoft article information this described can could
    note some other different certain specific instead appear appears""".split())
# Function words a user keeps, now and then.
CONNECTIVES = ("when", "after", "with", "on", "not", "no", "cannot", "while", "from", "in", "during")
# A KB phrase and the words a user types for it (the query vocabulary,
# kbsearch/thesaurus.py, read backwards, and the compact product names).
USER_WORDS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("stops", "responding"), ("freezes", "hangs", "locks up")),
    (("stop", "responding"), ("freeze", "hang", "lock up")),
    (("hangs",), ("freezes", "locks up")),
    (("hang",), ("freeze", "lock up")),
    (("access", "violation"), ("crash", "crashes")),
    (("general", "protection", "fault"), ("gpf", "crash")),
    (("page", "fault"), ("crash",)),
    (("unable", "to"), ("can't", "cannot")),
    (("cannot",), ("can't",)),
    (("incorrect",), ("wrong",)),
    (("incorrectly",), ("wrong",)),
    (("disconnected",), ("dropped",)),
    (("disappears",), ("vanishes", "goes away")),
    (("computer",), ("machine", "pc")),
    (("computers",), ("machines", "pcs")),
    (("memory",), ("ram", "mem")),
    (("damaged",), ("corrupted", "broken")),
    (("administrator",), ("admin",)),
    (("database",), ("db",)),
    (("shortcut",), ("hotkey",)),
    (("empty",), ("blank",)),
    (("displays",), ("shows",)),
    (("displayed",), ("shown",)),
    (("large",), ("big", "huge")),
    (("unexpected",), ("weird", "strange")),
    (("start",), ("launch",)),
    (("configuration",), ("config",)),
    (("synchronization",), ("sync",)),
    (("performance",), ("speed",)),
    (("windows", "nt"), ("nt",)),
    (("windows", "95"), ("win95",)),
    (("windows", "98"), ("win98",)),
    (("windows", "2000"), ("win2k",)),
    (("ms-dos", "prompt"), ("dos box", "dos prompt")),
    (("hard", "disk"), ("hard drive",)),
    (("network", "adapter"), ("network card", "nic")),
    (("service", "pack"), ("sp",)),
    (("restart",), ("reboot",)),
    (("error", "message"), ("error",)),
]
REPLACE_P = 0.5
USER = "\0user"  # marks a unit that is a user's word
# The short name a user gives the product, by the article's tag.
SHORT_NAMES = {
    "winnt": "nt", "win95x": "win95", "win98": "win98", "win2000": "win2k", "exchange": "exchange",
    "foxpro": "foxpro", "visualc": "visual c++", "vbwin": "vb", "sms": "sms", "sna": "sna",
    "word97": "word", "word": "word", "msdos": "dos", "iis": "iis", "win3x": "windows 3.1",
    "schedplus": "schedule+", "powerpt": "powerpoint", "frontpg": "frontpage", "excel": "excel",
    "access": "access", "sql": "sql server", "lanman": "lan manager", "outlook": "outlook",
}
PRODUCT_P = 0.35
MIN_WORDS, MAX_WORDS = 5, 12
LEAD_WORDS = 45  # the first sentences of SYMPTOMS read, at most this many words
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# The registry warning some SYMPTOMS open with, and dates: no user types them.
WARNING = re.compile(r"\b(?:IMPORTANT|WARNING|registry|Registry Editor)\b.*\b(?:back ?up|incorrectly|modify|editing|restore|understand)\b", re.I)
DATE = re.compile(r"[\d/.:-]*\d[/:-][\d/.:-]*")
MAX_CODES = 2
TOP, DISTINCT = 4, (0, 2)  # how many of the TOP rarest words a description keeps
COMMON_P = 0.5  # the chance it keeps each other content word  # words with a digit (codes, versions, addresses) a description keeps


def lead_words(symptoms: str) -> list[str]:
    """The first sentences of SYMPTOMS (up to :data:`LEAD_WORDS` words), as plain words."""
    out: list[str] = []
    for sentence in SENTENCE_END.split(" ".join(symptoms.split())):
        if WARNING.search(sentence):
            continue
        ws = [w for w in plain_words(sentence) if not DATE.fullmatch(w)]
        if out and len(out) + len(ws) > LEAD_WORDS:
            break
        out.extend(ws)
        if len(out) >= 12:
            break
    return out[:LEAD_WORDS]


def user_phrasing(ws: list[str], rng: random.Random) -> list[list[str]]:
    """``ws`` grouped into units, each a word or a KB phrase a user word replaced."""
    units: list[list[str]] = []
    i = 0
    while i < len(ws):
        for kb, users in USER_WORDS:
            if tuple(ws[i:i + len(kb)]) == kb and rng.random() < REPLACE_P:
                units.append(rng.choice(users).split() + [USER])
                i += len(kb)
                break
        else:
            units.append([ws[i]])
            i += 1
    return units


def describe(symptoms: str, tag: str, df: Counter, n_docs: int, rng: random.Random) -> str | None:
    """A user-style description of the problem SYMPTOMS describes, or None."""
    units = user_phrasing(lead_words(symptoms), rng)
    if len(units) < MIN_WORDS:
        return None

    def idf(w: str) -> float:
        return math.log(n_docs / (1 + df.get(w, 0)))

    def user(i: int) -> bool:
        return units[i][-1] == USER

    content = [i for i, u in enumerate(units)
               if user(i) or (u[0] not in STOP_WORDS and u[0] not in BOILERPLATE and not u[0].isdigit())]
    plain = [i for i in content if not user(i)]
    if len(plain) < 3:
        return None
    coded = [i for i in plain if any(c.isdigit() for c in units[i][0])]
    plain = [i for i in plain if i not in coded[MAX_CODES:]]
    content = [i for i in content if i not in coded[MAX_CODES:]]
    by_idf = sorted(plain, key=lambda i: -idf(units[i][0]))
    # a few of the most distinctive words, not always the rarest: a user
    # knows some of the names an article uses, not all of them
    keep = set(rng.sample(by_idf[:TOP], min(len(by_idf[:TOP]), rng.randint(*DISTINCT))))
    rare = set(by_idf[:TOP])
    seen = {units[i][0] for i in keep}
    for i in content:  # the user's words, and a few common content words
        if i not in keep | rare and (user(i) or rng.random() < COMMON_P) and units[i][0] not in seen:
            keep.add(i)
            seen.add(units[i][0])
    for i, u in enumerate(units):  # a few function words, never first
        if u[0] in CONNECTIVES and i > 0 and rng.random() < 0.3 and any(k > i for k in keep):
            keep.add(i)
    order = sorted(keep)

    def size(i: int) -> int:
        return len(units[i]) - user(i)

    while sum(map(size, order)) > MAX_WORDS:
        # drop the commonest word that is not one of the rarest
        spare = [i for i in order if i not in rare and not user(i)]
        order.remove(min(spare, key=lambda i: idf(units[i][0])) if spare else order[-1])
    words = [w for i in order for w in units[i] if w != USER]
    while words and words[-1] in CONNECTIVES:
        words.pop()
    short = SHORT_NAMES.get(tag)
    if short and rng.random() < PRODUCT_P and short not in " ".join(words):
        words = short.split() + words if rng.random() < 0.7 else words + short.split()
    if len(words) < MIN_WORDS:
        return None
    return " ".join(words[:MAX_WORDS + 2])


# --- one pass over the archive ------------------------------------------------

def read(path: str) -> tuple[str, str, str, str, set[str]] | None:
    """``(id, title, tag, symptoms, distinct words)`` of one article file."""
    try:
        art = parse_file(path)
    except KBSearchError:
        return None
    sym = "\n".join(s.text for s in art.sections if s.name in SYMPTOM_SECTIONS)
    seen = set(plain_words(art.title))
    for s in art.sections:
        seen.update(plain_words(s.text))
    return art.id, art.title, art.tag, sym, seen


def titles_and_symptoms(archive: str, left_out: set[str], n: int, seed: int, out_dir: Path) -> None:
    df: Counter = Counter()
    titles: dict[str, str] = {}
    tags: dict[str, str] = {}
    symptoms: dict[str, str] = {}
    for path in peers.archive_files([archive]):
        r = read(path)
        if r is None:
            continue
        aid, title, tag, sym, seen = r
        df.update(seen)
        titles[aid], tags[aid] = title, tag
        if sym:
            symptoms[aid] = sym
    n_docs = len(titles)
    peers.log(f"{n_docs} articles read, {len(symptoms)} with SYMPTOMS")

    by_title: dict[str, list[str]] = defaultdict(list)
    for aid, t in titles.items():
        by_title[title_key(t)].append(aid)
    def title_judgment(aid: str, rng: random.Random) -> dict | None:
        q = title_query(titles[aid], rng)
        same = by_title[title_key(titles[aid])]
        if q is None or len(same) > 5 or set(same) & left_out:
            return None
        return {"query": q, "relevant": sorted(same)}

    def symptom_judgment(aid: str, rng: random.Random) -> dict | None:
        q = describe(symptoms[aid], tags[aid], df, n_docs, rng)
        return None if q is None else {"query": q, "relevant": [aid]}

    for kind, articles, make, s in (("title", titles, title_judgment, seed),
                                    ("symptom", symptoms, symptom_judgment, seed + 1)):
        written = write_sampled(out_dir / f"train-{kind}.jsonl", f"train-{kind}",
                                sorted(a for a in articles if a not in left_out), n, make, random.Random(s))
        peers.log(f"{written} {kind} judgments")


def write_sampled(path: Path, name: str, pool: list[str], n: int, make, rng: random.Random) -> int:
    """Up to ``n`` judgments ``make(article id, rng)`` gives (None: skip it),
    from ``pool`` shuffled by ``rng``, written to ``path``; how many."""
    rng.shuffle(pool)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for aid in pool:
            if written >= n:
                break
            if (j := make(aid, rng)) is not None:
                out.write(json.dumps({"set": name, **j, "exclude": []}) + "\n")
                written += 1
    return written


def sample_file(src: Path, dst: Path, n: int, seed: int) -> int:
    lines = [line for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(lines)
    dst.write_text("".join(line + "\n" for line in lines[:n]), encoding="utf-8")
    return min(n, len(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", required=True, help="folder of article files")
    ap.add_argument("--out-dir", type=Path, required=True, help="where the files go (outside the repository)")
    ap.add_argument("--leave-out", nargs="+", default=[], metavar="JUDGMENTS",
                    help="dev judgment files: the articles they name (relevant or excluded) are not used")
    ap.add_argument("--n", type=int, default=600, help="judgments of each kind (default 600)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    left_out = peers.articles_named(args.leave_out, excluded=True)
    peers.log(f"{len(left_out)} articles left out")
    with tempfile.TemporaryDirectory() as tmp:
        # the generators leave out the relevant ids of a file: one file naming every id
        lo = Path(tmp) / "leave-out.jsonl"
        lo.write_text(json.dumps({"query": "left out", "relevant": sorted(left_out) or ["Q0"]}) + "\n")
        common = ["--archive", args.archive, "--seed", str(args.seed), "--leave-out", str(lo)]
        if "errmsg" in args.kinds:
            parts = []
            for kind, n in (("shown", args.n - args.n // 2), ("quoted", args.n // 2)):
                out = Path(tmp) / f"{kind}.jsonl"
                fragments.main([kind, "--n", str(n), "--out", str(out), *common])
                parts.append(out.read_text(encoding="utf-8"))
            (args.out_dir / "train-errmsg.jsonl").write_text("".join(parts), encoding="utf-8")
        if "xref" in args.kinds:
            out = Path(tmp) / "cit.jsonl"
            citations.main(["--every-topic", "--out", str(out), *common])
            got = sample_file(out, args.out_dir / "train-xref.jsonl", args.n, args.seed)
            peers.log(f"{got} xref judgments")
    if {"title", "symptom"} & set(args.kinds):
        titles_and_symptoms(args.archive, left_out, args.n, args.seed, args.out_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KBSearchError as e:
        sys.exit(f"{sys.argv[0]}: {e}")
