"""Throughput and latency of ``kbsearch serve`` beside the in-process API, in the same run.

    python benchmarks/serve.py --index KBINDEX [--seconds 20] [--clients 16]
                               [--queries 300] [--seed 1] [--workers N]
                               [--judgments FILE...] [--json]

The issue's measure: concurrent clients send held-out-style queries for
``--seconds``; the server must answer them all (0 errors), and its
throughput must be at least 0.8x what one process gets calling
``KnowledgeBase.results(q, limit=10)`` in a loop, so that the server's own
overhead (HTTP, JSON, the framework) stays small.

The queries: ``--queries`` of the dev judgment files' queries (every Nth
line over all files, as the other benchmarks sample them, so each file
gives its share), shuffled with ``--seed`` so that each stretch of the
round-robin mixes the files. Queries the API rejects (no words) are left
out of both runs and counted on stderr.

Three runs, each after one untimed pass over the queries:
- in-process: one loop over ``results(q, limit=10)`` for ``--seconds``, half
  before the HTTP runs and half after (the machine's drift falls on both);
- HTTP, 1 client: the same loop as ``GET /api/search?q=...&limit=10`` on one
  keep-alive connection (the server's overhead per request, unqueued);
- HTTP, ``--clients`` clients: threads, each with its own keep-alive
  connection, taking the next query round-robin; a non-200 answer, an
  answer that is not the results document, or an exception is an error.
The server is ``python -m kbsearch serve --index KBINDEX --port FREE``
(``--workers N`` passed through when the server takes it), started here
and stopped at the end. Latency is per request, as each client sees it:
with 16 clients on one server it includes the wait for the others.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

import peers
from kbsearch.errors import KBSearchError

HOST = "127.0.0.1"
TARGET_RATIO = 0.8
LIMIT = 10
START_TIMEOUT = 120.0  # seconds for the server to open the index and answer


@dataclass
class Run:
    """One mode's figures over a timed stretch."""

    mode: str
    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    first_errors: list[str] = field(default_factory=list, repr=False)

    @property
    def qps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return peers.percentile(self.latencies_ms, q)

    def add(self, other: "Run") -> "Run":
        """This run and ``other`` as one (the two halves of the in-process run)."""
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies_ms += other.latencies_ms
        self.first_errors = (self.first_errors + other.first_errors)[:5]
        return self

    def row(self) -> list[object]:
        return [self.mode, self.clients, f"{self.qps:.1f}", f"{self.p(50):.1f}", f"{self.p(95):.1f}", self.errors]

    def summary(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        d.update(ok=len(self.latencies_ms), qps=round(self.qps, 2),
                 p50_ms=round(self.p(50), 2), p95_ms=round(self.p(95), 2), seconds=round(self.seconds, 2))
        return d


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="a kbsearch index of the archive")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each timed run (default 20)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    ap.add_argument("--queries", type=int, default=300, help="sampled dev queries (default 300)")
    ap.add_argument("--seed", type=int, default=1, help="shuffles the sampled queries (default 1)")
    ap.add_argument("--workers", type=int, default=None,
                    help="passed to `kbsearch serve --workers` when the server takes it")
    ap.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                    help="one more option for `kbsearch serve` (repeatable), e.g. --serve-option=--no-access-log")
    ap.add_argument("--judgments", nargs="+", type=Path, default=None,
                    help="judgment files whose queries are sent (default ../shared/eval/dev-*.jsonl)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the tables")
    return ap.parse_args(argv)


# --- queries ------------------------------------------------------------------

def choose_queries(files: list[Path], count: int, seed: int) -> list[str]:
    """``count`` queries sampled across ``files`` (each file its share), in a seeded order."""
    queries = peers.sample_queries(files, count)
    random.Random(seed).shuffle(queries)
    return queries


# --- in-process ---------------------------------------------------------------

def accepted(kb, queries: list[str]) -> list[str]:
    """The untimed pass: each query run once; those the API rejects are dropped."""
    out = []
    for q in queries:
        try:
            kb.results(q, limit=LIMIT)
        except KBSearchError:
            continue
        out.append(q)
    return out


def in_process(kb, queries: list[str], seconds: float) -> Run:
    """``results(q, limit=10)`` in a loop over ``queries`` for ``seconds``."""
    run = Run("in-process", 1)
    start = time.perf_counter()
    deadline = start + seconds
    for q in itertools.cycle(queries):
        t = time.perf_counter()
        if t >= deadline:
            break
        try:
            kb.results(q, limit=LIMIT)
        except Exception as e:  # noqa: BLE001 - counted, as over HTTP
            _error(run, f"{type(e).__name__}: {e}")
            continue
        finally:
            run.requests += 1
        run.latencies_ms.append(1000 * (time.perf_counter() - t))
    run.seconds = time.perf_counter() - start
    return run


def _error(run: Run, what: str) -> None:
    run.errors += 1
    if len(run.first_errors) < 5:
        run.first_errors.append(what)


# --- the server -----------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env() -> dict[str, str]:
    """The environment for the server: the same kbsearch package this process imported."""
    import kbsearch

    root = str(Path(kbsearch.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def serve_takes_workers(env: dict[str, str]) -> bool:
    out = subprocess.run([sys.executable, "-m", "kbsearch", "serve", "--help"],
                         capture_output=True, text=True, env=env)
    return "--workers" in out.stdout


class Server:
    """``python -m kbsearch serve`` in a subprocess on a free loopback port."""

    def __init__(self, index: Path, workers: int | None = None, options: list[str] = ()):
        self.env = server_env()
        self.port = free_port()
        self.cmd = [sys.executable, "-m", "kbsearch", "serve", "--index", str(index),
                    "--host", HOST, "--port", str(self.port), *options]
        self.workers = None
        if workers is not None:
            if serve_takes_workers(self.env):
                self.cmd += ["--workers", str(workers)]
                self.workers = workers
            else:
                peers.log(f"  (kbsearch serve has no --workers: --workers {workers} left out)")
        self.log = tempfile.TemporaryFile()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"kbsearch serve exited with {self.proc.returncode}: {self.output_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/api/stats")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"kbsearch serve did not answer within {START_TIMEOUT:.0f} s: {self.output_tail()}")

    def output_tail(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " / ".join(lines[-3:]) or "(no output)"

    def rss_mb(self) -> float | None:
        """The server's peak RSS so far: its process and every worker it
        started, summed (from /proc)."""
        def peak(pid: int) -> int:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
            return 0

        def tree(pid: int) -> list[int]:
            kids = []
            for task in Path(f"/proc/{pid}/task").iterdir():
                kids += [int(c) for c in (task / "children").read_text().split()]
            return [pid] + [p for k in kids for p in tree(k)]

        try:
            return sum(peak(p) for p in tree(self.proc.pid)) / 1024
        except OSError:
            return None

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- HTTP clients ---------------------------------------------------------------

def search_path(q: str) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": q, "limit": LIMIT})


class Client:
    """One keep-alive connection; a new one after an error."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            return r.status, r.read()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check_answer(status: int, body: bytes) -> str | None:
    """Why an answer is not the results document (None when it is)."""
    if status != 200:
        return f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if not isinstance(doc, dict) or not isinstance(doc.get("hits"), list) or "total" not in doc:
        return f"not a results document: {body[:200]!r}"
    return None


def warm_http(port: int, queries: list[str]) -> int:
    """One untimed pass over ``queries``, each answer checked; the number of bad answers."""
    client, bad = Client(port), 0
    for q in queries:
        try:
            why = check_answer(*client.get(search_path(q)))
        except Exception as e:  # noqa: BLE001
            why = f"{type(e).__name__}: {e}"
        if why:
            bad += 1
            if bad <= 3:
                peers.log(f"  warm-up: {q!r}: {why}")
    client.close()
    return bad


def over_http(port: int, queries: list[str], clients: int, seconds: float) -> Run:
    """``clients`` threads, each on its own keep-alive connection, sending the
    queries round-robin until ``seconds`` have passed."""
    run = Run("HTTP", clients)
    paths = [search_path(q) for q in queries]
    turn = itertools.count()  # next() on a count is atomic in CPython
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client_loop() -> None:
        client = Client(port)
        lat: list[float] = []
        errors: list[str] = []
        ready.wait()
        while True:
            t = time.perf_counter()
            if t >= deadline[0]:
                break
            path = paths[next(turn) % len(paths)]
            try:
                status, body = client.get(path)
                # The status and the start of the body: parsing every answer
                # would take the clients' CPU from the server on a small machine.
                why = None if status == 200 and body.startswith(b"{") else check_answer(status, body)
            except Exception as e:  # noqa: BLE001
                why = f"{type(e).__name__}: {e}"
            if why:
                errors.append(why)
            else:
                lat.append(1000 * (time.perf_counter() - t))
        client.close()
        with lock:
            run.requests += len(lat) + len(errors)
            run.latencies_ms.extend(lat)
            for why in errors:
                _error(run, why)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for th in threads:
        th.start()
    start = time.perf_counter()
    deadline[0] = start + seconds
    ready.wait()
    for th in threads:
        th.join()
    run.seconds = time.perf_counter() - start
    return run


# --- report ---------------------------------------------------------------------

def verdict(local: Run, http_runs: list[Run]) -> dict:
    """HTTP throughput (the last, most concurrent run) over in-process, and the HTTP errors."""
    ratio = http_runs[-1].qps / local.qps if local.qps else 0.0
    errors = sum(r.errors for r in http_runs)
    return {"ratio": round(ratio, 3), "target": TARGET_RATIO, "errors": errors,
            "pass": ratio >= TARGET_RATIO and errors == 0}


def print_report(runs: list[Run], v: dict, note: str) -> None:
    peers.print_table(["mode", "clients", "q/s", "p50 ms", "p95 ms", "errors"], [r.row() for r in runs])
    print()
    peers.print_table(["figure", "value", "target", "met"], [
        [f"HTTP q/s ({runs[-1].clients} clients) ÷ in-process q/s", f"{v['ratio']:.2f}",
         f"≥ {v['target']}", "PASS" if v["ratio"] >= v["target"] else "FAIL"],
        ["HTTP errors", v["errors"], "0", "PASS" if v["errors"] == 0 else "FAIL"],
    ])
    print()
    print(note)


def main(argv: list[str] | None = None) -> None:
    from kbsearch import KnowledgeBase

    args = parse_args(argv)
    files = args.judgments or peers.default_judgments()
    if not files:
        raise SystemExit("no judgment files: give --judgments")
    queries = choose_queries(files, args.queries, args.seed)
    with KnowledgeBase.open(args.index) as kb:
        articles = kb.stats()["articles"]
        peers.log(f"{articles} articles; in-process: {len(queries)} queries, one untimed pass")
        good = accepted(kb, queries)
        if len(good) < len(queries):
            peers.log(f"  {len(queries) - len(good)} queries rejected by the API, left out")
        if not good:
            raise SystemExit("no query the API accepts")
        # Half before the HTTP runs and half after, so that the machine's
        # drift (other work on it) falls on both sides of the ratio.
        peers.log(f"in-process: {args.seconds / 2:g} s")
        local = in_process(kb, good, args.seconds / 2)
        with Server(args.index, args.workers, args.serve_option) as server:
            peers.log(f"server on port {server.port}: {' '.join(server.cmd[1:])}; one untimed pass")
            bad = warm_http(server.port, good)
            if bad:
                peers.log(f"  {bad} bad answers in the warm-up pass")
            peers.log(f"HTTP, 1 client: {args.seconds:g} s")
            single = over_http(server.port, good, 1, args.seconds)
            peers.log(f"HTTP, {args.clients} clients: {args.seconds:g} s")
            many = over_http(server.port, good, args.clients, args.seconds)
            rss = server.rss_mb()
            workers = server.workers
        peers.log(f"in-process: {args.seconds / 2:g} s")
        local.add(in_process(kb, good, args.seconds / 2))
    runs = [local, single, many]
    for r in runs:
        for why in r.first_errors:
            peers.log(f"  {r.mode} ({r.clients}): {why}")
    v = verdict(local, [single, many])
    if args.json:
        print(json.dumps({"index": str(args.index), "articles": articles, "queries": len(good),
                          "seconds": args.seconds, "workers": workers, "cpus": os.cpu_count(),
                          "server_peak_rss_mb": None if rss is None else round(rss, 1),
                          "runs": [r.summary() for r in runs], **v}, indent=2))
        return
    rss_note = "" if rss is None else f"; server peak RSS {rss:.0f} MB"
    print_report(runs, v, f"{articles} articles, {len(good)} queries, {args.seconds:g} s a run, "
                          f"{os.cpu_count()} CPUs, server workers: {workers or 'default'}{rss_note}")


if __name__ == "__main__":
    main()
