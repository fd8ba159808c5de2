"""Typo tolerance: reading a misspelled query word as the word the archive uses.

The vocabulary is the index's own: the ``words`` field holds each article's
distinct surface words (:func:`kbsearch.analysis.surface_words`), so its
document frequencies say how many articles write a word, and they follow
every incremental run and deletion. A query word the archive does not use,
or uses far less than a word one edit away (two for long words), is read as
that word: "redirecter" (4 articles) as "redirector" (502), "exchnage" (1)
as "exchange" (7,394).

Never corrected: words with a digit, dot, underscore, hyphen or apostrophe
(codes, file names, versions: ``c0000218``, ``perfctrs.dll``, ``iis4``),
words shorter than :data:`MIN_LENGTH` letters (``wins``, ``nt``,
``wont``: too many short words are one edit apart), names typed with a
capital inside or in capitals (``IExpress``, ``AddressOf``, ``SMS``), words the query vocabulary knows
(:mod:`kbsearch.thesaurus`), words in quotation marks, and any word that
:data:`COMMON` articles or more use.

Finding candidates costs no start-up: the one-edit neighbours of a word
(about 500 strings) are looked up as terms, ~10 ms a suspicious word; only a
long word with no such neighbour reads the word list (once per open index)
to look two edits away. A word that the archive uses often enough costs one
cached term look-up.
"""

from __future__ import annotations

import re
import string
import weakref
from dataclasses import dataclass

from . import engine, terms
from .analysis import UNSTEMMED, stem
from .thesaurus import knows

# Shortest word ever corrected: words of 4 letters or fewer ("wins", "wont",
# "nt", "iis") must be typed as the archive writes them.
MIN_LENGTH = 5
# Longer "words" are pasted data, not words (and would cost 54 look-ups a letter).
MAX_LENGTH = 30
# A word this many articles use is never corrected.
COMMON = 10
# A correction must be used by this many times more articles than the word
# as typed (one edit away; two edits need RATIO * (df + 1)).
RATIO = 30
# Words this long are also looked for two edits away.
TWO_EDITS = 8
# A suggestion (not a correction) needs a neighbour this many times more
# common than the typed word, and the typed word under SUGGEST_COMMON.
SUGGEST_RATIO = 5
SUGGEST_COMMON = 100

_WORD_RE = re.compile(r"[\w.'\u2019-]+")
_LETTERS_RE = re.compile(r"[^\W\d_]+")
_QUOTED_RE = re.compile(r'"[^"]*"')
_ALPHABET = string.ascii_lowercase


@dataclass
class Spelling:
    """What :func:`check` found: the corrected query (None when every word
    stands) and a close query worth suggesting (None when there is none)."""

    corrected: str | None
    suggestion: str | None


def check(eng: engine.Engine, text: str, suggest: bool = False) -> Spelling:
    """The correction of the free-text query ``text`` and, with ``suggest``,
    a close query worth suggesting; nothing for an index made before the
    ``words`` field existed. Without ``suggest`` only words fewer than
    :data:`COMMON` articles use are looked at (what keeps a clean query's
    cost to a cached term look-up a word)."""
    if not eng.has_field(terms.WORDS_FIELD):
        return Spelling(None, None)
    quoted = [m.span() for m in _QUOTED_RE.finditer(text)]
    fixes: list[tuple[int, int, str]] = []
    hints: list[tuple[int, int, str]] = []
    for m in _WORD_RE.finditer(text):
        word = m.group()
        if not _correctable(word) or any(a <= m.start() < b for a, b in quoted):
            continue
        low = word.lower()
        # deleted articles not yet merged away count here: a word this common
        # needs no closer look
        if eng.doc_frequency(terms.WORDS_FIELD, low) >= (SUGGEST_COMMON if suggest else COMMON):
            continue
        df = _frequency(eng, low)
        best, dist, best_df = _closest(eng, low)
        if best is None:
            continue
        if df < COMMON and best_df >= (RATIO * df if dist == 1 else RATIO * (df + 1)) and best_df > df:
            fixes.append((m.start(), m.end(), best))
        elif suggest and best_df >= SUGGEST_RATIO * max(df, 1):
            hints.append((m.start(), m.end(), best))
    corrected = _replace(text, fixes) if fixes else None
    suggestion = _replace(text, fixes + hints) if hints else None
    return Spelling(corrected, suggestion)


def _correctable(word: str) -> bool:
    """Whether ``word`` (as typed) may be corrected at all; see the module docstring."""
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or not _LETTERS_RE.fullmatch(word):
        return False
    if any(c.isupper() for c in word[1:]):  # a name: IExpress, AddressOf, SPOOLSS
        return False
    low = word.lower()
    return low not in UNSTEMMED and not knows(stem(low))


def _frequency(eng: engine.Engine, word: str) -> int:
    """How many (live) articles write ``word``."""
    return eng.live_frequency(terms.WORDS_FIELD, word)


def _closest(eng: engine.Engine, word: str) -> tuple[str | None, int, int]:
    """The most used word one edit from ``word`` (two, for a long word with
    none one edit away): ``(word, edits, articles)``."""
    freq = eng.doc_frequency
    best, best_df = None, 0
    for cand in sorted(_edits1(word)):
        n = freq(terms.WORDS_FIELD, cand)
        if n > best_df:
            best, best_df = cand, n
    if best is not None:
        return best, 1, _frequency(eng, best)
    if len(word) < TWO_EDITS:
        return None, 0, 0
    for cand in sorted(_speller(eng).within2(word)):
        n = freq(terms.WORDS_FIELD, cand)
        if n > best_df:
            best, best_df = cand, n
    return (best, 2, _frequency(eng, best)) if best else (None, 0, 0)


def _edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion
    (of a-z) away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    out |= {a + c + b for a, b in splits for c in _ALPHABET}
    out.discard(word)
    return out


class _Speller:
    """The index's word list, bucketed by first letter and length, for
    looking two edits away (read once per open index)."""

    def __init__(self, words: list[str]):
        self.buckets: dict[tuple[str, int], list[str]] = {}
        for w in words:
            if w.isalpha():
                self.buckets.setdefault((w[0], len(w)), []).append(w)

    def within2(self, word: str) -> list[str]:
        """Words of the list two edits from ``word`` (its first letter kept)."""
        n = len(word)
        out = []
        for size in range(n - 2, n + 3):
            for w in self.buckets.get((word[0], size), ()):
                if _distance(word, w, 2) == 2:
                    out.append(w)
        return out


_SPELLERS: "weakref.WeakKeyDictionary[engine.Engine, _Speller]" = weakref.WeakKeyDictionary()


def _speller(eng: engine.Engine) -> _Speller:
    sp = _SPELLERS.get(eng)
    if sp is None:
        sp = _SPELLERS[eng] = _Speller(eng.lexicon(terms.WORDS_FIELD))
    return sp


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance of ``a`` and
    ``b``, or ``limit + 1`` once it is sure to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _replace(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, word)`` span replaced by ``word``."""
    out, last = [], 0
    for start, end, word in sorted(edits):
        out += [text[last:start], word]
        last = end
    return "".join(out + [text[last:]])
