"""kbsearch fetch against a loopback HTTP server serving a small tarball of
the archive's layout, whole, cut off in the middle, or not at all."""

import io
import json
import os
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from kbsearch.cli import cli
from kbsearch.errors import KBSearchError
from kbsearch.fetch import MARKER, article_path, download

from .conftest import SEEDS


def _tarball() -> bytes:
    """``kbarchive-master/`` with txt/NNN/QNNNNN.TXT, and other folders whose files must not be written."""
    buf = io.BytesIO()
    files = {f"kbarchive-master/txt/{s.name[1:4]}/{s.name}": s.read_bytes() for s in SEEDS}
    files.update({
        "kbarchive-master/README.md": b"# kbarchive\n",
        "kbarchive-master/html/168/Q168845.html": b"<html></html>",
        "kbarchive-master/docs/Q100001.TXT": b"DOCUMENT:Q100001 not under txt/\n",
        "kbarchive-master/txt/../../escape.TXT": b"must not leave the folder",
    })
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        # padding, so that a cut in the middle falls inside the stream
        pad = os.urandom(300_000)
        info = tarfile.TarInfo("kbarchive-master/bin/blob.bin")
        info.size = len(pad)
        tar.addfile(info, io.BytesIO(pad))
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Server:
    """Serves ``body`` at /archive.tar.gz on 127.0.0.1; ``cut``: send the
    full Content-Length but close after half the bytes."""

    def __init__(self, body: bytes, cut: bool = False):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/archive.tar.gz":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if outer.cut else body)
                self.wfile.flush()
                if outer.cut:
                    self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args):
                pass

        self.cut = cut
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/archive.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tarball():
    return _tarball()


def _fetch(tmp_path, url, *args):
    r = CliRunner().invoke(cli, ["fetch", "--url", url, "--to", str(tmp_path / "kbarchive"),
                                 "--index", str(tmp_path / "index"), *args])
    return r


def test_fetch_writes_only_the_article_files_and_indexes_them(tmp_path, tarball):
    with _Server(tarball) as srv:
        r = _fetch(tmp_path, srv.url, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["fetch"]["files"] == 2 and out["index"]["added"] == 2 and out["index"]["articles"] == 2
    written = sorted(os.path.relpath(os.path.join(d, f), tmp_path) for d, _, fs in os.walk(tmp_path / "kbarchive")
                     for f in fs)
    assert written == [f"kbarchive/{MARKER}", "kbarchive/168/Q168845.TXT", "kbarchive/280/Q280515.TXT"]
    assert not (tmp_path / "escape.TXT").exists()
    r = CliRunner().invoke(cli, ["redirector unable to delete", "--json", "--index", str(tmp_path / "index")])
    assert json.loads(r.stdout)["hits"][0]["id"] == "Q168845"


def test_a_connection_cut_in_the_middle_keeps_nothing_and_a_rerun_starts_cleanly(tmp_path, tarball):
    with _Server(tarball, cut=True) as srv:
        r = _fetch(tmp_path, srv.url)
    assert r.exit_code == 1
    (line,) = r.output.strip().splitlines()[-1:]
    assert line.startswith("Error: the download from") and "broke off after" in line and "run it again" in line
    assert "Traceback" not in r.output
    assert not (tmp_path / "kbarchive").exists()
    assert not [e for e in os.listdir(tmp_path) if e.startswith("kbarchive")]  # no temporary folder left
    assert not (tmp_path / "index").exists()  # nothing indexed
    with _Server(tarball) as srv:
        r = _fetch(tmp_path, srv.url)
    assert r.exit_code == 0, r.output
    assert "2 added" in r.stdout and "; 2 articles" in r.stdout


def test_a_second_fetch_replaces_the_first(tmp_path, tarball):
    with _Server(tarball) as srv:
        assert _fetch(tmp_path, srv.url).exit_code == 0
        (tmp_path / "kbarchive" / "168" / "stale.TXT").write_text("left from before")
        r = _fetch(tmp_path, srv.url, "--json")
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "kbarchive" / "168" / "stale.TXT").exists()
    assert json.loads(r.stdout)["index"]["articles"] == 2


def test_offline_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    r = _fetch(tmp_path, f"http://127.0.0.1:{port}/archive.tar.gz")
    assert r.exit_code == 1
    assert r.output.strip().splitlines()[-1].startswith(f"Error: cannot download http://127.0.0.1:{port}/")
    assert "no network connection?" in r.output and "Traceback" not in r.output


def test_a_server_error_and_a_file_that_is_no_tarball_are_one_line(tmp_path, tarball):
    with _Server(tarball) as srv:
        r = _fetch(tmp_path, srv.url.replace("archive.tar.gz", "missing"))
    assert r.exit_code == 1 and "the server answered 404" in r.output
    with _Server(b"<html>not a tarball</html>") as srv:
        r = _fetch(tmp_path, srv.url)
    assert r.exit_code == 1 and "broke off" in r.output and not (tmp_path / "kbarchive").exists()


def test_a_folder_of_the_users_is_never_replaced(tmp_path, tarball):
    mine = tmp_path / "kbarchive"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with _Server(tarball) as srv:
        r = _fetch(tmp_path, srv.url)
    assert r.exit_code == 1 and "holds files kbsearch fetch did not write" in r.output
    assert (mine / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("member, path", [
    ("kbarchive-master/txt/168/Q168845.TXT", os.path.join("168", "Q168845.TXT")),
    ("kbarchive-master/txt/Q1.txt", "Q1.txt"),
    ("kbarchive-master/html/Q1.TXT", None),
    ("kbarchive-master/txt/168/Q168845.html", None),
    ("kbarchive-master/txt/../../x.TXT", None),
    ("/kbarchive-master/txt/x.TXT", None),
    ("kbarchive-master/README.md", None),
])
def test_which_members_are_article_files(member, path):
    assert article_path(member) == path


def test_download_from_python_raises_the_one_error_type(tmp_path):
    with pytest.raises(KBSearchError, match="cannot download"):
        download("http://127.0.0.1:9/x.tar.gz", str(tmp_path / "k"), timeout=2)
