"""The one exception type kbsearch raises for expected failures."""


class KBSearchError(Exception):
    """An expected failure with a message fit to show a user on one line.

    Missing or locked index, unknown article, unreadable judgments file: the
    CLI prints ``str(error)`` and exits with status 1; library callers catch it.
    The servers answer 400 for it, and the subclasses below say when another
    status fits.
    """


class NotFound(KBSearchError):
    """The article asked for is not in the index (HTTP 404)."""


class IndexUnavailable(KBSearchError):
    """The index cannot be opened: missing, unreadable or made by another
    Whoosh (HTTP 503 for a server whose index went away)."""
