"""An article laid out for reading: its sections as paragraphs and
preformatted blocks, with the article numbers in them marked for linking.

KB articles are plain text wrapped at 80 columns. Prose is unindented and
reads best reflowed; indented lines (the messages an article quotes, steps,
code, registry paths) and column-aligned tables only make sense as laid out.
The web page renders what this module returns; it knows nothing of HTML.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from .article import Article, normalize_id

# An article number in running text: "Q126401", "KB126401", "Q 126401" is not.
_ARTICLE_RE = re.compile(r"(?<![\w/.])(?:Q|KB)0*\d{5,6}(?!\w)", re.IGNORECASE)
# Columns: a gap of three spaces or more between words inside a line.
_COLUMNS_RE = re.compile(r"\S {3,}\S")
# A line of dashes or equals signs: it underlines the sub-heading above it.
_RULE_RE = re.compile(r"^\s*(?:-{3,}|={3,})\s*$")
# A line that starts a list item: "- ", "* ", "1. ", "a) ".
_ITEM_RE = re.compile(r"^(?:[-*\u2022]\s|\(?(?:\d{1,2}|[a-zA-Z])[.)]\s)")


@dataclass
class Piece:
    """A run of text; ``article`` is the id it names when it is an article
    number the index holds (the page links it)."""

    text: str
    article: str | None = None


@dataclass
class Block:
    """A paragraph (``"p"``, reflowed), preformatted text (``"pre"``) or a
    sub-heading (``"h"``, a line the article underlines with dashes)."""

    kind: str
    pieces: list[Piece]


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


def pieces(text: str, known: Callable[[str], bool]) -> list[Piece]:
    """``text`` split around the article numbers in it; those ``known``
    accepts (by normalised id) carry their id."""
    out: list[Piece] = []
    last = 0
    for m in _ARTICLE_RE.finditer(text):
        aid = normalize_id(m.group(0))
        if aid is None or not known(aid):
            continue
        if m.start() > last:
            out.append(Piece(text[last:m.start()]))
        out.append(Piece(m.group(0), aid))
        last = m.end()
    if last < len(text) or not out:
        out.append(Piece(text[last:]))
    return out


def _is_laid_out(line: str) -> bool:
    return line[:1].isspace() or bool(_COLUMNS_RE.search(line.strip())) or bool(_ITEM_RE.match(line))


def blocks(text: str, known: Callable[[str], bool] = lambda _: False) -> list[Block]:
    """The blocks of one section's text: runs of prose lines become a
    reflowed paragraph, runs of indented, listed or columned lines a
    preformatted block (dedented)."""
    out: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r", "").strip("\n")):
        lines = chunk.rstrip().split("\n")
        if len(lines) >= 2 and _RULE_RE.match(lines[1]) and lines[0].strip():
            out.append(Block("h", pieces(lines[0].strip(), known)))
            lines = lines[2:]
        run: list[str] = []
        laid_out = False
        for line in lines + [None]:
            this = line is not None and _is_laid_out(line)
            # A list item's wrapped continuation lines stay with it.
            if line is not None and laid_out and not this and run and _ITEM_RE.match(run[-1].lstrip()):
                this = True
            if line is None or (run and this != laid_out):
                if run:
                    if laid_out:
                        body = textwrap.dedent("\n".join(run)).strip("\n")
                    else:
                        body = " ".join(part.strip() for part in run)
                    if body.strip():
                        out.append(Block("pre" if laid_out else "p", pieces(body, known)))
                run = []
            if line is not None:
                run.append(line)
                laid_out = this
    return out


def sections(art: Article, known: Callable[[str], bool] = lambda _: False) -> list[Section]:
    """The article's body as readable sections (the preamble first, when it
    has text before its first heading)."""
    out = []
    if art.preamble.strip():
        out.append(Section("", blocks(art.preamble, known)))
    for s in art.sections:
        out.append(Section(s.heading.strip().title() if s.heading.isupper() else s.heading.strip(),
                           blocks(s.text, known)))
    return out
