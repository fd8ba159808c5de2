"""kbsearch: search archives of Microsoft Knowledge Base articles.

>>> from kbsearch import KnowledgeBase
>>> kb = KnowledgeBase.open("index")
>>> hits = kb.search("redirector unable to delete", limit=5)

Names are imported on first use, so ``import kbsearch`` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Article", "Hit", "IndexReport", "KBSearchError", "KnowledgeBase", "Results", "parse_article"]

_WHERE = {
    "KnowledgeBase": "kb",
    "Hit": "search",
    "Results": "search",
    "Article": "article",
    "parse_article": "article",
    "KBSearchError": "errors",
    "IndexReport": "ingest",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'kbsearch' has no attribute {name!r}")
