"""Get the public archive: stream its tarball and keep only ``txt/**.TXT``.

The tarball of the jeffpar/kbarchive repository is about 870 MB unpacked,
of which the articles (``<top>/txt/NNN/QNNNNN.TXT``) are 225 MB: it is read
as a stream and nothing else is written. The files go to a temporary folder
beside the destination, which replaces the destination only once the whole
tarball has arrived, so a broken connection leaves nothing half-written and
a second run starts cleanly.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from .errors import KBSearchError

DEFAULT_URL = "https://codeload.github.com/jeffpar/kbarchive/tar.gz/refs/heads/master"
# Seconds to wait for the server to answer, or for the next bytes of the stream.
TIMEOUT = 60.0
# The temporary folder of a download, beside its destination.
_PART = ".part-"
# Marks a folder this module wrote: only such a folder (or an empty one) is
# replaced by a new download, never a folder of the user's.
MARKER = ".kbsearch-fetch"

# ``(bytes so far, bytes in all or 0 if the server did not say, stage)``.
Progress = Callable[[int, int, str], None]


@dataclass
class FetchReport:
    """What a download wrote: how many article files, where, from what."""

    url: str
    folder: str
    files: int
    bytes: int
    seconds: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d


def default_folder(index_dir: str) -> str:
    """Where the article files go by default: ``kbarchive`` beside the index."""
    return os.path.join(os.path.dirname(os.path.abspath(index_dir)), "kbarchive")


def article_path(member: str) -> str | None:
    """The path under the destination of a tarball member that is an
    article file (``<top>/txt/.../*.TXT``, any case); None for anything
    else, and for a name that would leave the destination."""
    parts = PurePosixPath(member).parts
    if len(parts) < 3 or parts[1] != "txt" or not parts[-1].lower().endswith(".txt"):
        return None
    if member.startswith("/") or any(p in ("..", ".", "") for p in parts):
        return None
    return os.path.join(*parts[2:])


def download(url: str, folder: str, progress: Progress | None = None, timeout: float = TIMEOUT) -> FetchReport:
    """Stream the tarball at ``url`` and write its article files under
    ``folder`` (replacing what was there once the download is complete)."""
    import urllib.error
    import urllib.request

    from . import __version__

    t0 = time.perf_counter()
    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    if os.path.isdir(folder) and os.listdir(folder) and not os.path.exists(os.path.join(folder, MARKER)):
        raise KBSearchError(f"{folder} holds files kbsearch fetch did not write: give --to a new or empty folder")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise KBSearchError(f"{folder} is a file, not a folder: give --to a new or empty folder")
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_stale_parts(folder)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(folder) + _PART, dir=parent)
    except OSError as e:
        raise KBSearchError(f"cannot write to {parent}: {e.strerror or e}") from None
    try:
        try:
            req = urllib.request.Request(url, headers={"User-Agent": f"kbsearch/{__version__}"})
            resp = urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            raise KBSearchError(f"cannot download {url}: the server answered {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            raise KBSearchError(f"cannot download {url}: {reason} (no network connection?)") from None
        stream = _Counting(resp, int(resp.headers.get("Content-Length") or 0), progress)
        files = 0
        try:
            with resp, tarfile.open(fileobj=stream, mode="r|gz") as tar:
                for member in tar:
                    rel = article_path(member.name)
                    if rel is None or not member.isfile():
                        continue
                    dest = os.path.join(tmp, rel)
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    src = tar.extractfile(member)
                    with src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                    files += 1
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            got = f"{stream.done / 1e6:,.1f} MB"
            raise KBSearchError(f"the download from {url} broke off after {got} ({_reason(e)}): "
                                f"nothing was kept or indexed; run it again") from None
        if files == 0:
            raise KBSearchError(f"{url} holds no txt/*.TXT article files: is it the kbarchive tarball?")
        with open(os.path.join(tmp, MARKER), "w", encoding="utf-8") as f:
            f.write(url + "\n")
        _replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FetchReport(url, folder, files, stream.done, time.perf_counter() - t0)


class _Counting:
    """A file-like reader that counts the bytes read and reports them."""

    def __init__(self, raw, total: int, progress: Progress | None):
        self.raw, self.total, self.progress = raw, total, progress
        self.done = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.done += len(data)
        if self.progress:
            self.progress(self.done, self.total, "downloading")
        return data


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 60 else text[:59] + "…"


def _replace(tmp: str, folder: str) -> None:
    """Put the complete download ``tmp`` where ``folder`` is, in two renames."""
    old = None
    if os.path.lexists(folder):
        old = tempfile.mkdtemp(prefix=os.path.basename(folder) + _PART, dir=os.path.dirname(folder))
        os.rename(folder, os.path.join(old, "old"))
    os.rename(tmp, folder)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def _remove_stale_parts(folder: str) -> None:
    """Remove what a killed earlier download left beside ``folder``."""
    parent, name = os.path.split(folder)
    for entry in os.listdir(parent):
        if entry.startswith(name + _PART):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
