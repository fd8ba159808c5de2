"""Parse one Microsoft Knowledge Base text article into a typed record.

The format (Microsoft's FTP archive, until about 2002) is a header block of
``KEY:value`` lines, an "applies to" list, sections whose headings are
underlined with ``=``, an "Additional query words" line, a footer of
``Key : value`` lines and a legal notice. Real files deviate from it in many
small ways, so every step here is lenient: text that does not fit a slot is
kept in the nearest section rather than dropped.
"""

from __future__ import annotations

import datetime as _dt
import re
import textwrap
from dataclasses import dataclass, field
from typing import Iterator

from .errors import KBSearchError

__all__ = [
    "Article",
    "Citation",
    "article_dict",
    "NotAnArticle",
    "ProdVer",
    "Section",
    "decode_bytes",
    "displayed_paragraphs",
    "normalize_id",
    "parse_article",
    "parse_file",
    "prose_indent",
    "quoted_pieces",
    "reference_runs",
    "symptom_pieces",
]


class NotAnArticle(KBSearchError):
    """Raised for input that is not a KB article (empty, binary, no header)."""


@dataclass
class ProdVer:
    """One ``platform:versions`` pair of the PROD/VER line."""

    platform: str
    versions: list[str]


@dataclass
class Section:
    """A titled part of the article body: SYMPTOMS, CAUSE, RESOLUTION, ..."""

    heading: str
    text: str

    @property
    def name(self) -> str:
        """Canonical lower-case key, e.g. ``"more information"``."""
        return " ".join(self.heading.lower().split())


@dataclass
class Citation:
    """Another article this one cites, with the title given beside it if any,
    and the topic the citing text gives it ("For more information about
    *topic*, click the article number below ...")."""

    id: str
    title: str = ""
    topic: str = ""


@dataclass
class Article:
    """Everything one KB article says, in typed slots; ``text`` is the whole file."""

    id: str
    title: str = ""
    date: _dt.date | None = None
    date_text: str = ""
    tag: str = ""
    product: str = ""
    prod_ver: list[ProdVer] = field(default_factory=list)
    oper_sys: str = ""
    keywords: list[str] = field(default_factory=list)
    header_extra: dict[str, str] = field(default_factory=dict)
    applies_to: list[str] = field(default_factory=list)
    preamble: str = ""
    sections: list[Section] = field(default_factory=list)
    query_words: str = ""
    footer: dict[str, str] = field(default_factory=dict)
    legal: str = ""
    citations: list[Citation] = field(default_factory=list)
    text: str = ""
    encoding: str = "utf-8"
    source: str = ""

    @property
    def number(self) -> int:
        return int(self.id[1:])

    @property
    def versions(self) -> list[str]:
        """All versions named in PROD/VER, in order, without repeats."""
        seen: dict[str, None] = {}
        for pv in self.prod_ver:
            for v in pv.versions:
                seen.setdefault(v, None)
        return list(seen)

    @property
    def platforms(self) -> list[str]:
        return [pv.platform for pv in self.prod_ver if pv.platform]

    def section(self, name: str) -> str:
        """Text of every section whose heading is ``name`` (case-insensitive)."""
        name = " ".join(name.lower().split())
        return "\n\n".join(s.text for s in self.sections if s.name == name)

    # Footer fields, named as in the file.
    @property
    def footer_keywords(self) -> list[str]:
        return self.footer.get("Keywords", "").split()

    @property
    def technology(self) -> list[str]:
        return self.footer.get("Technology", "").split()

    @property
    def version_line(self) -> str:
        return self.footer.get("Version", "")

    @property
    def issue_type(self) -> str:
        return self.footer.get("Issue type", "").strip()

    @property
    def solution_type(self) -> str:
        return self.footer.get("Solution Type", "").strip()

    def _symptom_pieces(self) -> Iterator[tuple[str, str]]:
        """:func:`symptom_pieces` of SYMPTOMS' own text (not the paragraphs
        citing other articles)."""
        for sec in self.sections:
            if sec.name in SYMPTOM_SECTIONS:
                indent = prose_indent(sec.text)
                for run, ref in reference_runs(sec.text):
                    if not ref:
                        yield from symptom_pieces(run, indent)

    @property
    def messages(self) -> list[str]:
        """What SYMPTOMS shows the user sees, as the article sets it off from
        its prose: error messages, dialog text, event log entries."""
        return [textwrap.dedent(p).strip() for p, kind in self._symptom_pieces() if kind == "shown"]

    @property
    def quotes(self) -> list[str]:
        """What SYMPTOMS' prose puts in quotation marks (two words or more):
        a message as an article cites it inline ("... you receive the error
        message "Access is denied""), a menu or button as the screen names it."""
        return [" ".join(p.split()) for p, kind in self._symptom_pieces() if kind == "quoted"]

    @property
    def truncated(self) -> bool:
        """Whether the file stops after its header (a cut-off copy): no
        body text, no "Additional query words", no footer and no legal
        notice. Such an article is still indexed, by its header; an
        article whose sections are blank but whose file goes on to the
        footer is not truncated."""
        return (not self.preamble.strip() and not any(s.text.strip() for s in self.sections)
                and not self.query_words and not self.footer and not self.legal)

    @property
    def body(self) -> str:
        """The article's prose: preamble and every section, headings included."""
        parts = [self.preamble] if self.preamble else []
        parts += [f"{s.heading}\n{s.text}" if s.heading else s.text for s in self.sections]
        return "\n\n".join(p for p in parts if p)


# --- decoding -------------------------------------------------------------

def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode an article file; returns ``(text, encoding)``.

    UTF-8 first (nearly all files are ASCII); otherwise Windows-1252, which is
    what the archive's legacy files are. The few bytes cp1252 leaves undefined
    become U+FFFD rather than invisible control characters.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        head = data[: e.start]
        if e.reason == "unexpected end of data" and e.end == len(data) and not head.isascii():
            # Cut inside its last character, after valid multi-byte UTF-8:
            # still a UTF-8 file, not Windows-1252 mojibake.
            return head.decode("utf-8") + "\ufffd", "utf-8"
        return data.decode("cp1252", errors="replace"), "cp1252"


# --- ids ------------------------------------------------------------------

_ID_RE = re.compile(r"^\s*(?:Q|KB|KBQ)?\s*0*(\d{1,7})\s*$", re.IGNORECASE)


def normalize_id(text: str) -> str | None:
    """``"Q168845"``, ``"168845"``, ``"KB168845"`` -> ``"Q168845"``; else None."""
    m = _ID_RE.match(text or "")
    if not m or int(m.group(1)) == 0:
        return None
    return f"Q{int(m.group(1))}"


# --- parsing --------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_HEADER_RE = re.compile(r"^([A-Z][A-Z/ ]{1,11}?)\s*:(.*)$")
_DOC_RE = re.compile(
    r"^\s*(?P<id>Q\d+)\s*(?P<date>\d{1,2}-[A-Za-z]{3}-\d{2,4})?\s*(?:\[(?P<tag>[^\]]*)\])?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_RULE_RE = re.compile(r"^\s*(={5,}|-{5,})\s*$")
_APPLIES_RE = re.compile(r"^\s*the information in this article applies to", re.IGNORECASE)
_QUERY_WORDS_RE = re.compile(r"^\s*additional\s+(?:query|reference)\s+words\s*:?(.*)$", re.IGNORECASE)
_FOOTER_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z /-]{1,20}?)\s*:\s?(.*)$")
_LEGAL_RE = re.compile(r"^\s*THE INFORMATION PROVIDED IN THE MICROSOFT KNOWLEDGE BASE", re.IGNORECASE)
_CITE_RE = re.compile(r"(?<![\w/.])(?:Q|KB)(\d{5,6})(?!\w)")
_CITE_LINE_RE = re.compile(r"^\s*(?:Q|KB)(\d{5,6})\s+(\S.*)$")
_ARTICLE_ID_RE = re.compile(r"^\s*ARTICLE[- ]ID\s*:\s*(?:Q|KB)(\d{5,6})\s*$", re.IGNORECASE)
_TITLE_LINE_RE = re.compile(r"^\s*TITLE\s*:\s*(.*)$", re.IGNORECASE)
# A paragraph that sends the reader to other articles: "For more information
# about X, click the article number below to view the article in the
# Microsoft Knowledge Base:" and the like.
_REFERENCE_RE = re.compile(
    r"knowledge\s+base\s*:?\s*$|article\s+numbers?\s+below|following\s+articles?\b",
    re.IGNORECASE | re.MULTILINE)
# The topic of a lead-in: "For more information about <topic>, click ...".
_TOPIC_RE = re.compile(
    r"information\s+(?:about|on|regarding|concerning)\s+(\S.{2,300}?)"
    r"(?:,\s*(?:click|see|please|refer|view|query|visit)|\s+(?:click|please|refer)\s)",
    re.IGNORECASE | re.DOTALL)
# Headings of the section that says what the user sees.
SYMPTOM_SECTIONS = ("symptoms", "symptom")
_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
_CITE_START_RE = re.compile(r"^[ \t]*(?:Q\d|KB\d|(?i:article))", re.MULTILINE)
_SENTENCE_END_RE = re.compile(r"[.!?][\"')]?\s+")

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}


def _parse_date(text: str) -> _dt.date | None:
    try:
        day, mon, year = text.split("-")
        y = int(year)
        if y < 100:
            y += 1900 if y >= 70 else 2000
        return _dt.date(y, _MONTHS[mon.upper()], int(day))
    except (ValueError, KeyError):
        return None


def _parse_prod_ver(value: str) -> list[ProdVer]:
    """``"WINDOWS:97; winnt:4.0"`` -> two pairs; ``":2.0"`` -> platform ''."""
    pairs = []
    for part in re.split(r"[;]", value):
        part = part.strip()
        if not part:
            continue
        platform, sep, vers = part.partition(":")
        if not sep:  # no colon: a bare version list or a bare platform
            if re.search(r"\d", platform):
                platform, vers = "", platform
            else:
                vers = ""
        versions = [v.strip() for v in re.split(r"[,\s]+", vers) if v.strip()]
        pairs.append(ProdVer(platform.strip(), versions))
    return pairs


def _is_underline(line: str, heading: str) -> bool:
    s = line.strip()
    return (
        len(s) >= 3
        and set(s) == {"="}
        and abs(len(s) - len(heading.strip())) <= max(2, len(heading.strip()) // 4)
    )


def _join(lines: list[str]) -> str:
    """Join lines, trimming blank lines at both ends and trailing spaces."""
    lines = [ln.rstrip() for ln in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def parse_article(data: bytes | str, source: str = "", citations: bool = True) -> Article:
    """Parse article text (bytes are decoded first) into an :class:`Article`.

    Raises :class:`NotAnArticle` for empty or binary input and for text with
    no ``DOCUMENT:`` line carrying a Q-number. ``citations=False`` skips
    finding cited articles (a quarter of the time), for display.
    """
    encoding = "utf-8"
    if isinstance(data, bytes):
        if not data.strip():
            raise NotAnArticle("empty file")
        if b"\x00" in data[:4096]:
            raise NotAnArticle("binary file (NUL bytes)")
        text, encoding = decode_bytes(data)
    else:
        text = data.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NotAnArticle("empty file")
    if len(_CONTROL_RE.findall(text, 0, 4096)) > 16:
        raise NotAnArticle("binary file (control bytes)")

    lines = text.split("\n")
    art = Article(id="", text=text, encoding=encoding, source=source)

    # Header: KEY:value lines at the top, up to the first rule or blank gap.
    i = 0
    n = len(lines)
    while i < n and not lines[i].strip():
        i += 1
    last_key = None
    while i < n:
        line = lines[i]
        if _RULE_RE.match(line):
            break
        m = _HEADER_RE.match(line)
        if m:
            key = " ".join(m.group(1).split())
            value = m.group(2).strip()
            last_key = key
            _set_header(art, key, value)
        elif line.strip() and last_key is not None and line.startswith((" ", "\t")):
            # A wrapped header value (long titles do this).
            _set_header(art, last_key, line.strip(), append=True)
        elif not line.strip():
            if art.id:
                # A blank line after a complete header ends it.
                i += 1
                break
        else:
            break
        i += 1
    if not art.id:
        raise NotAnArticle("no DOCUMENT: line with a Q-number")

    # Skip the rules and read the "applies to" block.
    body_start = i
    while body_start < n and (not lines[body_start].strip() or _RULE_RE.match(lines[body_start])):
        body_start += 1
    i = body_start
    if i < n and _APPLIES_RE.match(lines[i]):
        i += 1
        item: list[str] = []
        while i < n and not _RULE_RE.match(lines[i]):
            s = lines[i].strip()
            if s.startswith(("-", "*")) and len(s) > 1:
                if item:
                    art.applies_to.append(" ".join(item))
                item = [s.lstrip("-* ").strip()]
            elif s and item:
                item.append(s)
            elif s:
                item = [s]
            i += 1
        if item:
            art.applies_to.append(" ".join(item))
        if i < n:
            i += 1  # the closing rule
        body_start = i

    # Locate the footer: the legal notice, and the Key : value block before it.
    end = n
    for j in range(n - 1, body_start - 1, -1):
        if _LEGAL_RE.match(lines[j]):
            art.legal = _join(lines[j:])
            end = j
            break
    foot_start = _find_footer(lines, body_start, end)
    if foot_start is not None:
        _parse_footer(art, lines[foot_start:end])
        end = foot_start
    # Trim the rules closing the body.
    while end > body_start and (not lines[end - 1].strip() or _RULE_RE.match(lines[end - 1])):
        end -= 1

    # Additional query words: the last such line, possibly wrapped.
    body_lines = lines[body_start:end]
    for j in range(len(body_lines) - 1, -1, -1):
        m = _QUERY_WORDS_RE.match(body_lines[j])
        if m:
            words = [m.group(1).strip()]
            k = j + 1
            while k < len(body_lines) and body_lines[k].strip():
                words.append(body_lines[k].strip())
                k += 1
            art.query_words = " ".join(w for w in words if w)
            body_lines = body_lines[:j] + body_lines[k:]
            break

    _parse_sections(art, body_lines)
    if citations:
        art.citations = _find_citations(art)
        _add_topics(art)
    return art


def _set_header(art: Article, key: str, value: str, append: bool = False) -> None:
    if key == "DOCUMENT":
        if append:
            return
        m = _DOC_RE.match(value)
        if m:
            art.id = normalize_id(m.group("id")) or ""
            art.date_text = m.group("date") or ""
            art.date = _parse_date(art.date_text) if art.date_text else None
            art.tag = (m.group("tag") or "").strip()
        return
    if key == "TITLE":
        art.title = f"{art.title} {value}".strip() if append else value
    elif key == "PRODUCT":
        art.product = f"{art.product} {value}".strip() if append else value
    elif key == "PROD/VER":
        art.prod_ver += _parse_prod_ver(value)
    elif key == "OPER/SYS":
        art.oper_sys = f"{art.oper_sys} {value}".strip() if append else value
    elif key == "KEYWORDS":
        art.keywords += value.split()
    else:
        old = art.header_extra.get(key, "")
        art.header_extra[key] = f"{old} {value}".strip() if append else value


def _find_footer(lines: list[str], start: int, end: int) -> int | None:
    """Index of the first ``Keywords :`` line of the footer block, if any."""
    for j in range(end - 1, start - 1, -1):
        s = lines[j]
        if _RULE_RE.match(s):
            # The footer is the block between this rule and the legal notice.
            block = [ln for ln in lines[j + 1:end] if ln.strip() and not _RULE_RE.match(ln)]
            if block and any(_FOOTER_KEY_RE.match(ln) for ln in block[:2]) and _looks_like_footer(block):
                return j + 1
            if j < end - 1 and block:
                return None
    return None


_FOOTER_KEYS = {"keywords", "technology", "version", "issue type", "solution type", "platform"}


def _looks_like_footer(block: list[str]) -> bool:
    keys = set()
    for ln in block:
        m = _FOOTER_KEY_RE.match(ln)
        if m:
            keys.add(" ".join(m.group(1).lower().split()))
    return bool(keys & _FOOTER_KEYS)


def _parse_footer(art: Article, block: list[str]) -> None:
    key = None
    for ln in block:
        if _RULE_RE.match(ln) or not ln.strip():
            continue
        m = _FOOTER_KEY_RE.match(ln)
        if m and not ln.startswith((" ", "\t")):
            key = " ".join(m.group(1).split())
            art.footer[key] = m.group(2).strip()
        elif key is not None:
            art.footer[key] = f"{art.footer[key]} {ln.strip()}".strip()
        else:
            art.footer.setdefault("", "")
            art.footer[""] = f"{art.footer['']} {ln.strip()}".strip()


def _parse_sections(art: Article, lines: list[str]) -> None:
    heading = None
    current: list[str] = []
    preamble: list[str] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        if line.strip() and not line.startswith((" ", "\t")) and _is_underline(nxt, line):
            if heading is None:
                preamble = current
            else:
                art.sections.append(Section(heading, _join(current)))
            heading = line.strip()
            current = []
            k += 2
            continue
        current.append(line)
        k += 1
    if heading is None:
        preamble = current
    else:
        art.sections.append(Section(heading, _join(current)))
    art.preamble = _join(preamble)


def _find_citations(art: Article) -> list[Citation]:
    """Q-numbers the body cites, with the title printed beside them if any."""
    found: dict[str, str] = {}
    lines = art.body.split("\n")
    for j, line in enumerate(lines):
        m = _ARTICLE_ID_RE.match(line)
        if m:
            cid = f"Q{int(m.group(1))}"
            title = ""
            if j + 1 < len(lines):
                t = _TITLE_LINE_RE.match(lines[j + 1])
                if t:
                    title = t.group(1).strip()
            if cid != art.id and (title or cid not in found):
                found[cid] = title or found.get(cid, "")
            continue
        m = _CITE_LINE_RE.match(line)
        if m and not line.strip().endswith(","):
            cid = f"Q{int(m.group(1))}"
            title_parts = [m.group(2).strip()]
            indent = len(line) - len(line.lstrip())
            k = j + 1
            while k < len(lines) and lines[k].strip() and len(lines[k]) - len(lines[k].lstrip()) >= indent \
                    and not _CITE_LINE_RE.match(lines[k]):
                title_parts.append(lines[k].strip())
                k += 1
            title = " ".join(title_parts)
            if cid != art.id and not found.get(cid):
                found[cid] = title
            continue
        for m in _CITE_RE.finditer(line):
            cid = f"Q{int(m.group(1))}"
            if cid != art.id:
                found.setdefault(cid, "")
    return [Citation(cid, title) for cid, title in found.items()]


def _add_topics(art: Article) -> None:
    """Fill in each citation's topic from the lead-in that sends the reader to it."""
    if not art.citations:
        return
    by_id = {c.id: c for c in art.citations}
    for sec in art.sections:
        for text, ref in reference_runs(sec.text):
            if not ref:
                continue
            leads = list(_TOPIC_RE.finditer(text))
            # A lead-in's topic goes to every article listed after it, up to
            # the next lead-in (one with a topic or one without).
            for m, nxt in zip(leads, leads[1:] + [None]):
                topic = " ".join(m.group(1).split())
                end = nxt.start() if nxt else len(text)
                first = _CITE_RE.search(text, m.end(), end)
                if first is None:
                    continue
                other = _REFERENCE_RE.search(text, first.end(), end)
                for cite in _CITE_RE.finditer(text, first.start(), other.start() if other else end):
                    c = by_id.get(f"Q{int(cite.group(1))}")
                    if c is not None and topic not in c.topic:
                        c.topic = f"{c.topic}; {topic}" if c.topic else topic


def _mentions_reference(text: str) -> bool:
    """Cheap pre-check for :data:`_REFERENCE_RE` (most text has none of its words)."""
    low = text.lower()
    return "knowledge" in low or "below" in low or "following" in low


def reference_runs(text: str) -> list[tuple[str, bool]]:
    """Split section text into runs of paragraphs, flagging the ones that
    describe *other* articles: the "for more information, see the following
    article" lead-ins and the lists of cited ids and titles after them.

    Their words say what the cited article is about, not this one, so the
    index gives them less weight. Joining the runs gives back the paragraphs.
    """
    if not (_mentions_reference(text) or _CITE_START_RE.search(text)):
        return [(text, False)] if text.strip() else []
    runs: list[tuple[str, bool]] = []
    for para in _PARAGRAPH_RE.split(text):
        if not para.strip():
            continue
        first = next(line for line in para.split("\n") if line.strip())
        if _CITE_LINE_RE.match(first) or _ARTICLE_ID_RE.match(first):
            parts = [(para, True)]
        elif _mentions_reference(para) and (m := _REFERENCE_RE.search(para)):
            # Only the sentence that holds the lead-in: the paragraph may
            # begin with this article's own words.
            start = max((e.end() for e in _SENTENCE_END_RE.finditer(para, 0, m.start())), default=0)
            parts = [(para[:start], False), (para[start:], True)] if start else [(para, True)]
        else:
            parts = [(para, False)]
        for part, ref in parts:
            if runs and runs[-1][1] == ref:
                runs[-1] = (runs[-1][0] + "\n\n" + part, ref)
            else:
                runs.append((part, ref))
    return runs


def prose_indent(text: str) -> int:
    """How far ``text``'s prose is indented: its least-indented paragraph's
    indentation (0 in most articles, 3 or more in some older ones)."""
    return min((_indent(p) for p in _PARAGRAPH_RE.split(text) if p.strip()), default=0)


def displayed_paragraphs(text: str, indent: int) -> list[tuple[str, bool]]:
    """Split ``text`` into paragraphs, flagging the ones indented deeper than
    the prose (``indent``, see :func:`prose_indent`): where KB articles show
    a message, a dialog box or a command as it appears on screen. Joining
    the paragraphs gives back the words of ``text``."""
    return [(p, _indent(p) > indent) for p in _PARAGRAPH_RE.split(text) if p.strip()]


# Quoted text in prose: between straight double quotes, over at most four lines.
_QUOTE_RE = re.compile(r'"([^"\n]*(?:\n[^"\n]*){0,3})"')


def quoted_pieces(paragraph: str) -> list[tuple[str, bool]]:
    """Split a prose paragraph at its quotations, flagging the quoted text of
    two words or more: what the article cites as the screen shows it. Joining
    the pieces gives back ``paragraph``."""
    out: list[tuple[str, bool]] = []
    last = 0
    for m in _QUOTE_RE.finditer(paragraph):
        if len(m.group(1).split()) < 2:
            continue
        out += [(paragraph[last:m.start(1)], False), (m.group(1), True)]
        last = m.end(1)
    out.append((paragraph[last:], False))
    return [(p, quoted) for p, quoted in out if p]


def symptom_pieces(text: str, indent: int) -> list[tuple[str, str]]:
    """SYMPTOMS text in pieces, each ``prose``, ``shown`` (a paragraph set off
    from the prose, see :func:`displayed_paragraphs`) or ``quoted`` (text the
    prose quotes, see :func:`quoted_pieces`). Joining them gives back the
    words of ``text``."""
    out: list[tuple[str, str]] = []
    for para, shown in displayed_paragraphs(text, indent):
        if shown:
            out.append((para, "shown"))
        else:
            out += [(p, "quoted" if quoted else "prose") for p, quoted in quoted_pieces(para)]
    return out


def _indent(paragraph: str) -> int:
    return min(len(ln) - len(ln.lstrip(" \t")) for ln in paragraph.split("\n") if ln.strip())


def parse_file(path: str) -> Article:
    """Read and parse one article file; see :func:`parse_article`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise KBSearchError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_article(data, source=str(path))


def article_dict(art: Article) -> dict:
    """A JSON-ready dict of every field of ``art`` (dates as ISO strings)."""
    from dataclasses import asdict

    d = asdict(art)
    d["date"] = art.date.isoformat() if art.date else None
    d["versions"] = art.versions
    d["issue_type"] = art.issue_type
    d["messages"] = art.messages
    d["quotes"] = art.quotes
    return d
