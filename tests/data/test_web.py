"""The web source against a real HTTP server on loopback: robots.txt, rate limit, cache,
retries and text extraction."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from framework.data.sources.web import web
from framework.errors import PlaitError
from framework.records import TEXT, column

ARTICLE = """<html><head><title>Plait</title><script>var tracking = 1;</script>
<style>p {color: red}</style></head><body><nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
<article><h1>Declarative training</h1>
<p>Plait trains language models from recipes written in YAML. Every component is a short name
in a config group, and the engine builds a Lightning trainer from the composed config.</p>
<p>Curation removes duplicate records, cleaning strips markup, and the audit records what each
step removed, so that nobody has to guess where the data went.</p></article>
<footer>Copyright 2026</footer></body></html>"""


class Site(BaseHTTPRequestHandler):
    hits: list[tuple[str, float]] = []
    flaky_left = 0

    def do_GET(self) -> None:
        Site.hits.append((self.path, time.monotonic()))
        if self.path == "/robots.txt":
            body, code = b"User-agent: *\nDisallow: /private\n", 200
        elif self.path == "/flaky" and Site.flaky_left > 0:
            Site.flaky_left -= 1
            body, code = b"busy", 503
        elif self.path in ("/a", "/b", "/flaky", "/private/secret"):
            body, code = ARTICLE.encode(), 200
        else:
            body, code = b"not found", 404
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site():
    Site.hits, Site.flaky_left = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_web_extracts_article_text_obeys_robots_and_caches(site, tmp_path):
    urls = [f"{site}/a", f"{site}/private/secret", f"{site}/b"]
    ds = web(urls=urls, delay=0.0, cache_dir=str(tmp_path), min_chars=50)
    texts = column(ds, TEXT)
    assert column(ds, "path") == [f"{site}/a", f"{site}/b"]  # robots.txt forbids /private
    assert "Plait trains language models" in texts[0]
    assert "tracking" not in texts[0] and "color: red" not in texts[0]
    assert not any(p.startswith("/private") for p, _ in Site.hits)
    fetched = len(Site.hits)
    again = web(urls=urls, delay=0.0, cache_dir=str(tmp_path), min_chars=50)
    assert column(again, TEXT) == texts
    assert len(Site.hits) - fetched == 1  # only robots.txt again: pages come from the cache


def test_web_spaces_requests_to_one_host(site, tmp_path):
    web(urls=[f"{site}/a", f"{site}/b"], delay=0.3, cache_dir=str(tmp_path), min_chars=50)
    times = [t for _, t in Site.hits]  # robots.txt, /a, /b
    assert len(times) == 3
    # spaced by the client; the server sees arrival times, which jitter on a loaded machine
    assert all(b - a >= 0.25 for a, b in zip(times, times[1:]))


def test_web_retries_a_busy_server_then_gives_up_clearly(site, tmp_path):
    Site.flaky_left = 2
    ds = web(urls=[f"{site}/flaky"], delay=0.01, retries=3, cache_dir=str(tmp_path), min_chars=50)
    assert len(ds) == 1 and [p for p, _ in Site.hits].count("/flaky") == 3
    Site.flaky_left = 5
    with pytest.raises(PlaitError, match="fetch failed after 1 retries"):
        web(urls=[f"{site}/flaky"], delay=0.01, retries=1, cache_dir=str(tmp_path / "b"))
