"""Search filters: what a user may narrow a search by, checked, and what to
say when one matches no article (the closest values that exist)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from .errors import KBSearchError

_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


@dataclass(frozen=True)
class Filters:
    """Product (words of its name, its tag or a PROD/VER platform), version,
    keyword, and a date range (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, both
    ends inclusive)."""

    product: str | None = None
    version: str | None = None
    keyword: str | None = None
    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        return any((self.product, self.version, self.keyword, self.since, self.until))

    def dates(self) -> tuple[str | None, str | None]:
        """``since`` and ``until`` as the first and last ISO dates they allow."""
        start = parse_date(self.since, "--since") if self.since else None
        end = parse_date(self.until, "--until", end=True) if self.until else None
        if start and end and start > end:
            raise KBSearchError(f"--since {self.since} is after --until {self.until}")
        return start, end


def parse_date(value: str, option: str, end: bool = False) -> str:
    """``2001`` -> ``2001-01-01`` (or ``2001-12-31`` for the ``end`` of a
    range), ``2001-03`` -> ``2001-03-01`` (``2001-03-31``: dates compare
    as text, so a month's end needs no calendar), ``2001-03-05`` as it is."""
    m = _DATE_RE.fullmatch(value.strip())
    try:
        if not m:
            raise ValueError
        year, month, day = m.group(1), m.group(2), m.group(3)
        if day:
            return date(int(year), int(month), int(day)).isoformat()
        if month:
            if not 1 <= int(month) <= 12:
                raise ValueError
            return f"{year}-{int(month):02d}-{31 if end else 1:02d}"
        return f"{year}-12-31" if end else f"{year}-01-01"
    except ValueError:
        raise KBSearchError(f"{option} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD") from None


def why_empty(eng, filters: Filters) -> str:
    """What to tell a user whose filters match no article: the filter that
    matches nothing and the closest values the index has, or that the
    filters match only apart."""
    start, end = filters.dates()
    checks = [
        ("--product", filters.product, eng.filter_query(product=filters.product) if filters.product else None),
        ("--version", filters.version, eng.filter_query(version=filters.version) if filters.version else None),
        ("--keyword", filters.keyword, eng.filter_query(keyword=filters.keyword) if filters.keyword else None),
        ("--since/--until", f"{start or '…'} to {end or '…'}",
         eng.filter_query(since=start, until=end) if start or end else None),
    ]
    counts = []
    for option, value, q in checks:
        if q is None:
            continue
        n = int(eng.filter_mask(q).sum())
        if n == 0:
            return f"{option} {value!r} matches no article; {_closest(eng, option, value)}"
        counts.append(f"{option} {value!r}: {n:,}")
    return "the filters match no article together (" + "; ".join(counts) + ")"


def _closest(eng, option: str, value: str) -> str:
    """The values of the filtered field closest to ``value``, as a hint."""
    if option == "--since/--until":
        dates = [d for d in eng.lexicon("date") if d]
        return f"the articles are dated {min(dates)} to {max(dates)}" if dates else "no article has a date"
    want = value.strip().lower()
    if option == "--product":
        names = [n for n in eng.count_by_product() if n and n != "(none)"]
        close = _similar(want, names + sorted(eng.field_terms("tag")))
        hint = f"closest products: {', '.join(close)}" if close else "see 'kbsearch stats' for the products"
        keywords = sorted((k for k in eng.field_terms("keyword") if want in k),
                          key=lambda k: -eng.field_terms("keyword")[k])[:3]
        if keywords:
            hint += f"; keywords that contain it (--keyword): {', '.join(keywords)}"
        return hint
    field = "version" if option == "--version" else "keyword"
    terms = eng.field_terms(field)
    close = _similar(want, list(terms))
    return (f"closest: {', '.join(close)}" if close else f"see 'kbsearch stats' for the {field}s") + \
        ("" if field == "version" else "; 'kbsearch stats' lists them")


def _similar(want: str, values: list[str], n: int = 3) -> list[str]:
    """The ``n`` values most like ``want``: containing it first, then by spelling."""
    by_lower = {v.lower(): v for v in values}
    containing = sorted((v for low, v in by_lower.items() if want in low), key=len)
    close = difflib.get_close_matches(want, list(by_lower), n=n, cutoff=0.6)
    return list(dict.fromkeys(containing + [by_lower[c] for c in close]))[:n]
