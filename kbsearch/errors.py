"""The one exception type kbsearch raises for expected failures."""


class KBSearchError(Exception):
    """An expected failure with a message fit to show a user on one line.

    Missing or locked index, unknown article, unreadable judgments file: the
    CLI prints ``str(error)`` and exits with status 1; library callers catch it.
    """
