"""Turn text into index terms: the one analyser shared by indexing and queries.

Technical tokens stay whole: ``0x0000000A``, ``c0000005``, ``win32``,
``perfctrs.dll``, ``3.51``, ``FILE_FLAG_DELETE_ON_CLOSE``. A joined token
(``client.lkp``) is indexed both whole and as its parts (``client``,
``lkp``), so ``client.lkp`` and ``client lkp`` both find it. Plain words are
lower-cased and stemmed (Snowball English), but for the names in
:data:`UNSTEMMED` ("WINS" is not "win"). Stop words are dropped but still
take a position, so phrases and proximity keep their true distances.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import Stemmer

__all__ = ["STOP_WORDS", "UNSTEMMED", "analyze", "analyze_list", "analyze_pieces", "analyze_spans", "stem",
           "stemmed", "surface_words"]

# Function words that carry no evidence on their own. Negations ("not",
# "no", "cannot") are kept: error messages turn on them.
STOP_WORDS = frozenset(
    """a an and are as at be been but by for from has have i if in into is it its
    of on or so such that the their then there these they this to was were which
    while will with you your we us our me my he she his her them
    """.split()
)

_TOKEN_RE = re.compile(r"\w+(?:['\u2019]\w+)*(?:[.\-]\w+(?:['\u2019]\w+)*)*")
_SPLIT_RE = re.compile(r"[.\-_]+")
_APOS_RE = re.compile(r"['\u2019]")

_stemmer = Stemmer.Stemmer("english")
_stem_cache: dict[str, str] = {}

# Names the stemmer would cut into another word: "WINS" into "win" (the
# abbreviation users type for Windows), "IIS" into "ii", "IFS" into the stop
# word "if". Each is an acronym ending in S that the archive writes in
# capitals at least 80% of the time, in 20 articles or more.
UNSTEMMED = frozenset(
    "bios cics cifs ems eps fips ias ics ifs iis ils ims mips netbios ups wins".split()
)


def stemmed(word: str) -> str:
    """The Snowball stem of ``word``, names in :data:`UNSTEMMED` included
    (how an index made before they were kept whole has them)."""
    return _stemmer.stemWord(word)


def stem(word: str) -> str:
    """Stem one lower-case word; words with digits or symbols stay as they are."""
    s = _stem_cache.get(word)
    if s is None:
        if word.isalpha() and len(word) > 2 and word not in UNSTEMMED:
            s = stemmed(word)
        else:
            s = word
        # Only plain words become keys: analyze_list() takes a hit as proof
        # that a token is neither a stop word nor a joined token.
        if len(_stem_cache) < 500_000 and word.isalnum() and word not in STOP_WORDS:
            _stem_cache[word] = s
    return s


def analyze(text: str, start: int = 0, split_compounds: bool = True) -> Iterator[tuple[int, str]]:
    """Yield ``(position, term)`` for ``text``, positions counting from ``start``.

    With ``split_compounds`` (indexing), a joined token yields itself and its
    parts; without it (queries), only the whole token, which is the precise one.
    """
    return iter(analyze_list(text, start, split_compounds))


def analyze_list(text: str, start: int = 0, split_compounds: bool = True) -> list[tuple[int, str]]:
    """:func:`analyze` as a list: the indexing hot path."""
    return _analyze(text, start, split_compounds)[0]


def analyze_pieces(pieces: list[str], start: int = 0) -> list[list[tuple[int, str]]]:
    """:func:`analyze_list` for consecutive pieces of one text (its
    paragraphs, say): each piece's terms, numbered as in the whole text."""
    out = []
    for piece in pieces:
        toks, start = _analyze(piece, start, True)
        out.append(toks)
    return out


def _analyze(text: str, start: int, split_compounds: bool) -> tuple[list[tuple[int, str]], int]:
    """The terms of ``text`` and the position after its last word."""
    out: list[tuple[int, str]] = []
    append = out.append
    pos = start
    stop = STOP_WORDS
    get = _stem_cache.get
    for tok in _TOKEN_RE.findall(text.lower()):
        # Only plain words are cache keys, so a hit needs no other check.
        s = get(tok)
        if s is not None:
            append((pos, s))
            pos += 1
            continue
        if "'" in tok or "\u2019" in tok:
            tok = _APOS_RE.sub("", tok)
        if tok in stop:
            pos += 1
            continue
        if "." in tok or "-" in tok or "_" in tok:
            parts = [p for p in _SPLIT_RE.split(tok) if p]
            if len(parts) > 1:
                append((pos, tok))
                if all(p.isdigit() for p in parts):
                    pos += 1  # a version or number: 3.51, 4.0.1381
                elif split_compounds:
                    for p in parts:
                        if p not in stop:
                            append((pos, stem(p)))
                        pos += 1
                else:
                    pos += len(parts)
                continue
            tok = parts[0] if parts else tok
            if tok in stop:
                pos += 1
                continue
        append((pos, stem(tok)))
        pos += 1
    return out, pos


def analyze_spans(text: str, start: int = 0) -> Iterator[tuple[int, str, int, int]]:
    """Query-side terms with where they stand: ``(position, term, startchar, endchar)``.

    Slower than :func:`analyze`; for parsing query syntax and for highlighting.
    """
    pos = start
    for m in _TOKEN_RE.finditer(text):
        last = pos
        for p, term in analyze(m.group(), pos, split_compounds=False):
            yield p, term, m.start(), m.end()
            last = p
        # Advance as far as analyze() did: one token may span several positions.
        pos = max(last + 1, pos + _width(m.group()))


# A run of letters as written (no digits, dots, underscores or hyphens inside).
_LETTERS_RE = re.compile(r"[^\W\d_]+")


def surface_words(text: str, min_len: int = 3) -> set[str]:
    """The distinct plain words of ``text`` as written, lower-cased and
    unstemmed (apostrophes dropped: "can't" is "cant"), at least ``min_len``
    letters: the spelling vocabulary (:mod:`kbsearch.spelling`). The parts
    of a joined token count ("perfctrs.dll" gives "perfctrs" and "dll")."""
    return {w for w in _LETTERS_RE.findall(_APOS_RE.sub("", text.lower())) if len(w) >= min_len}


def _width(tok: str) -> int:
    """How many positions one raw token takes (joined tokens take one a part)."""
    tok = tok.lower()
    if "." in tok or "-" in tok or "_" in tok:
        parts = [p for p in _SPLIT_RE.split(tok) if p]
        if len(parts) > 1 and not all(p.isdigit() for p in parts):
            return len(parts)
    return 1
