"""Query vocabulary: the words users type against the words KB articles use.

A user writes "nt4", "win2k", "can't", "the dos box locks up", "the service
dies"; the articles say "Windows NT 4.0", "Windows 2000", "cannot", "MS-DOS
prompt ... hangs", "access violation". :func:`expand` rewrites an analysed
query so that each query word also matches the KB's words for it, with a
weight: 1.0 for the same word spelled another way, less for a KB term that
only usually means what the user meant.

The tables are general knowledge of how KB articles are written, the same
for every query; they hold analysed (stemmed, lower-case) terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .analysis import stem

__all__ = ["QueryTerm", "code_forms", "expand", "knows", "stop_code_forms", "JARGON_WEIGHT"]

# Weight of a KB term standing in for a user's word that it usually, but not
# always, means ("crash" -> "access violation").
JARGON_WEIGHT = 0.5

# Spellings of one word: each matches the others at full weight.
_SAME = [
    ("cant", "cannot"),
    ("email", "e-mail"),
    ("login", "logon"),
    ("cdrom", "cd-rom"),
    ("reboot", "restart"),
    ("folder", "directori"),
    ("garbag", "garbl"),
    ("app", "program", "applic"),
    ("pwd", "password"),
    ("sound", "audio"),
    ("slow", "slowli"),
    ("administ", "administr"),
    ("grey", "gray"),
    ("wfw", "wfwg"),
    ("popup", "pop-up"),
]

# Short forms a user types for a word articles write out: full weight, one
# way ("win" in articles is mostly WIN.INI).
_SHORT = [
    ("win", "window"),
    ("2k", "2000"),
    ("sync", "synchron"),
    ("config", "configur"),
    ("svc", "servic"),
    ("srv", "server"),
    ("svr", "server"),
    ("msg", "messag"),
    ("perf", "perform"),
    ("auth", "authent"),
    ("mem", "memori"),
    ("err", "error"),
    ("pw", "password"),
    ("passwd", "password"),
    ("info", "inform"),
    ("prog", "program"),
]

# Contractions a user types where articles mostly write the words out.
_NEGATIONS = ("doesnt", "dont", "wont", "isnt", "didnt", "arent", "wasnt", "werent",
              "couldnt", "wouldnt", "shouldnt", "hasnt", "havent", "hadnt")

# User words for a failure, and the terms articles describe it with.
_JARGON = [
    (("hang", "hung", "freez", "lockup", "frozen", "stuck"), ("hang", "hung", "freez", "lockup", "respond")),
    (("crash", "die", "bomb"), ("crash", "fault", "violat", "av", "gpf")),
    (("bsod",), ("stop", "trap", "bugcheck")),
    (("boot",), ("start", "startup")),
    (("slow", "sluggish"), ("perform",)),
    (("drop",), ("disconnect",)),
    (("wrong",), ("incorrect",)),
    (("vanish", "gone"), ("disappear",)),
    (("patch",), ("hotfix", "fix")),
    (("nic",), ("adapt",)),
    (("machin", "pc"), ("comput",)),
    (("miss",), ("lost", "disappear")),
    (("edit",), ("modifi", "chang")),
    (("manag",), ("administ", "administr")),
    (("grey", "gray"), ("unavail", "dim")),
    (("ram",), ("memori",)),
    (("corrupt",), ("damag",)),
    (("laptop", "notebook"), ("portabl",)),
    (("admin",), ("administr",)),
    (("db",), ("databas",)),
    (("garbag", "garbl"), ("corrupt",)),
    (("hotkey",), ("shortcut",)),
    (("blank",), ("empti",)),
    (("show",), ("display", "appear")),
    (("kill",), ("termin",)),
    (("huge", "big"), ("larg",)),
    (("broken", "broke"), ("damag", "corrupt")),
    (("lan",), ("network",)),
    (("spreadsheet",), ("workbook", "worksheet")),
    (("weird", "strang", "odd"), ("unexpect", "incorrect")),
    (("launch",), ("start", "run")),
]

# Two-word user phrases: (first, second) -> alternatives for the word at
# ``index`` in the phrase.
_PHRASES = {
    ("lock", "up"): (0, ("hang", "freez", "lockup", "respond")),
    ("dos", "box"): (1, ("prompt", "session")),
    ("dos", "window"): (1, ("prompt", "session")),
    ("dos", "shell"): (1, ("prompt", "session")),
    ("dos", "session"): (1, ("prompt",)),
    ("dos", "prompt"): (1, ("session",)),
    ("blue", "screen"): (1, ("stop", "trap")),
    ("hard", "drive"): (1, ("disk",)),
    ("video", "card"): (1, ("adapt",)),
    ("graphic", "card"): (1, ("adapt",)),
    ("network", "card"): (1, ("adapt",)),
}

# Compact product-and-version tokens: "nt4" is "Windows NT 4.0".
_COMPACT = [
    (re.compile(r"nt(\d)(\d{0,2})"), lambda m: ["nt", _version(m.group(1), m.group(2))]),
    (re.compile(r"(?:win|w)(2k|2000|95|98|xp|nt|me)"),
     lambda m: ["window", {"2k": "2000"}.get(m.group(1), m.group(1))]),
    (re.compile(r"win3(1|11)?"), lambda m: ["window", "3." + (m.group(1) or "1")]),
    (re.compile(r"ie(\d)(\d?)"), lambda m: ["internet", "explor", _version(m.group(1), m.group(2))]),
    (re.compile(r"vb(\d)"), lambda m: ["visual", "basic", _version(m.group(1), "")]),
    (re.compile(r"sp(\d{1,2}a?)"), lambda m: ["servic", "pack", m.group(1)]),
    (re.compile(r"iis(\d)"), lambda m: ["iis", _version(m.group(1), "")]),
    (re.compile(r"sql(\d)(\d?)"), lambda m: ["sql", _version(m.group(1), m.group(2))]),
    (re.compile(r"sql(2k|2000)"), lambda m: ["sql", "2000"]),
    (re.compile(r"(?:office|off)(97|95|2000|xp)"), lambda m: ["offic", m.group(1)]),
    (re.compile(r"(word|excel|access)(97|95|2000|xp)"), lambda m: [stem(m.group(1)), m.group(2)]),
]
_VERSION_RE = re.compile(r"\d{1,2}")
# A 32-bit error code (HRESULT, NTSTATUS) with its top bit set: Windows
# shows one code as hex, with or without "0x" (0x80004005, c0000005), or
# as a decimal, signed (VB's "-2147467259", whose sign the analyser drops)
# or not (3221225477).
_HEX_CODE_RE = re.compile(r"(?:0x)?([0-9a-f]{8})")
_DECIMAL_CODE_RE = re.compile(r"\d{10}")
# A smaller code (a STOP code, most often) is written with or without the
# zero padding: 0x50, 0x00000050, 00000050; 0xA, 0x0A, 0x0000000A.
_SHORT_HEX_RE = re.compile(r"0x([0-9a-f]{1,8})|(0[0-9a-f]{7})")
# The words a STOP code is typed after ("stop 50", "bugcheck 1e"), and what
# such a code is: up to three hex digits, one of them a digit.
_STOP_WORDS = ("stop", "bugcheck")
_STOP_CODE_RE = re.compile(r"(?=[0-9a-f]{0,2}\d)[0-9a-f]{1,3}")


def _version(major: str, minor: str) -> str:
    return f"{major}.{minor or '0'}"


@dataclass
class QueryTerm:
    """One word of an analysed query: ``(position, term, start, end)`` as
    :func:`kbsearch.analysis.analyze_spans` gives it, plus the other terms
    that count as it, each with its weight."""

    position: int
    term: str
    start: int
    end: int
    alternatives: tuple[tuple[str, float], ...] = ()


def _tables() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}

    def add(word: str, alt: str, weight: float) -> None:
        if alt != word:
            cur = out.setdefault(word, {})
            cur[alt] = max(cur.get(alt, 0.0), weight)

    for group in _SAME:
        for w in group:
            for a in group:
                add(w, a, 1.0)
    for w, a in _SHORT:
        add(w, a, 1.0)
    for w in _NEGATIONS:
        add(w, "not", 1.0)
    for users, kb in _JARGON:
        for w in users:
            for a in kb:
                add(w, a, JARGON_WEIGHT)
    return out


_ALTERNATIVES = _tables()
assert all(stem(w) == w for w in _ALTERNATIVES), "thesaurus words must be analysed terms"
_KNOWN = frozenset(_ALTERNATIVES) | {a for alts in _ALTERNATIVES.values() for a in alts}


def expand(spans: list[tuple[int, str, int, int]],
           as_typed: Iterable[tuple[int, int]] = ()) -> list[QueryTerm]:
    """``spans`` with the KB's words for each query word as its alternatives.

    Compact product tokens become their words ("nt4" -> "nt" "4.0", the
    original kept as an alternative of each: an article that writes "NT4"
    says all of them), so positions after them move on; a
    bare version number ("nt 4") also matches its ``N.0`` form, an error
    code its other forms (:func:`code_forms`), and a number after "stop"
    or "bugcheck" the forms of that STOP code (:func:`stop_code_forms`). A word that
    starts inside one of the ``as_typed`` character ranges (what the user
    put in quotation marks) is left as it is, with no alternatives.
    """
    ranges = list(as_typed)
    out: list[QueryTerm] = []
    fixed: list[bool] = []
    shift = 0
    for pos, term, start, end in spans:
        typed = any(a <= start < b for a, b in ranges)
        parts = None if typed else _split_compact(term)
        fixed += [typed] * (1 if parts is None else len(parts))
        if parts is None:
            out.append(QueryTerm(pos + shift, term, start, end))
            continue
        for i, part in enumerate(parts):
            out.append(QueryTerm(pos + shift + i, part, start, end, ((term, 1.0),)))
        shift += len(parts) - 1
    alts = [dict(q.alternatives) for q in out]

    def offer(i: int, word: str, weight: float) -> None:
        if word != out[i].term and not fixed[i]:
            alts[i][word] = max(alts[i].get(word, 0.0), weight)

    for i, qt in enumerate(out):
        for a, w in _ALTERNATIVES.get(qt.term, {}).items():
            offer(i, a, w)
        for form in code_forms(qt.term):
            offer(i, form, 1.0)
        if _VERSION_RE.fullmatch(qt.term):
            offer(i, qt.term + ".0", 1.0)
        elif qt.term.endswith(".0") and _VERSION_RE.fullmatch(qt.term[:-2]):
            offer(i, qt.term[:-2], 1.0)
        if i + 1 < len(out) and out[i + 1].position == qt.position + 1:
            if qt.term in _STOP_WORDS or qt.term == "check" and i and out[i - 1].term == "bug":
                for form in stop_code_forms(out[i + 1].term):
                    offer(i + 1, form, 1.0)
            rule = _PHRASES.get((qt.term, out[i + 1].term))
            if rule is not None:
                for a in rule[1]:
                    offer(i + rule[0], a, JARGON_WEIGHT)
    for qt, d in zip(out, alts):
        qt.alternatives = tuple(d.items())
    return out


def knows(term: str) -> bool:
    """Whether the analysed ``term`` is a word of these tables (a user's
    word or the KB's word for it, a compact product token): such a word is
    never taken for a typo."""
    return term in _KNOWN or _split_compact(term) is not None


def code_forms(term: str) -> list[str]:
    """The other ways the archive writes the error code ``term`` (an
    analysed token): ``0x80004005`` -> ``80004005``, ``2147500037``,
    ``2147467259``; a smaller code with and without its zero padding,
    ``0x50`` -> ``0x00000050``, ``00000050`` (:func:`_padded`); none for a
    token that is no such code."""
    value = 0
    if m := _SHORT_HEX_RE.fullmatch(term):
        if (value := int(m.group(1) or m.group(2), 16)) < 2 ** 31:
            return _padded(value, term)
    if m := _HEX_CODE_RE.fullmatch(term):
        value = int(m.group(1), 16)
    elif _DECIMAL_CODE_RE.fullmatch(term) and term[0] != "0":
        n = int(term)
        value = n if n >= 2 ** 31 else 2 ** 32 - n  # unsigned, or a negative's magnitude
    if not 2 ** 31 <= value < 2 ** 32:  # no top bit, or no 32-bit number at all
        return []
    decimals = [str(d) for d in (value, 2 ** 32 - value) if d >= 10 ** 9]  # as a code is written: 10 digits
    return [f for f in [f"0x{value:08x}", f"{value:08x}", *decimals] if f != term]


def _padded(value: int, term: str = "") -> list[str]:
    """The ways a code under 2**31 is written, padded or not: ``0x50``,
    ``0x00000050``, ``00000050`` (and ``0x0a`` for one digit)."""
    if value >= 2 ** 31:
        return []
    forms = [f"0x{value:x}", f"0x{value:02x}", f"0x{value:08x}", f"{value:08x}"]
    return [f for f in dict.fromkeys(forms) if f != term]


def stop_code_forms(term: str) -> list[str]:
    """The forms of ``term`` read as the STOP code it is after "stop" or
    "bugcheck" ("stop 50": ``0x50``, ``0x00000050``...); none for a word
    that cannot be one."""
    return _padded(int(term, 16), term) if _STOP_CODE_RE.fullmatch(term) else []


def _split_compact(term: str) -> list[str] | None:
    for pattern, parts in _COMPACT:
        m = pattern.fullmatch(term)
        if m:
            return parts(m)
    return None
