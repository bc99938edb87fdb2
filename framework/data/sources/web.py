"""Web pages fetched politely (robots.txt, a per-host rate limit, an on-disk cache and
retries), with the main text extracted by trafilatura."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
import urllib.robotparser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framework.errors import PlaitError, install_hint
from framework.records import dataset

USER_AGENT = "plait-data/0.1 (+https://github.com/plait)"


def default_cache() -> str:
    """``$PLAIT_CACHE/web`` or ``~/.cache/plait/web``."""
    from framework.paths import plait_cache

    return str(plait_cache("web"))


class PoliteFetcher:
    """Fetch URLs obeying robots.txt, at most one request per ``delay`` seconds per host."""

    def __init__(self, cache_dir: str, delay: float, retries: int, timeout: float) -> None:
        self.cache = Path(cache_dir).expanduser()
        self.delay, self.retries, self.timeout = delay, retries, timeout
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._last: dict[str, float] = {}
        self.requests = 0
        """Network requests made (robots.txt included); cached pages cost none."""

    def _wait(self, host: str) -> None:
        since = time.monotonic() - self._last.get(host, -1e9)
        if since < self.delay:
            time.sleep(self.delay - since)
        self._last[host] = time.monotonic()

    def _open(self, url: str) -> bytes:
        host = urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            self._wait(host)
            self.requests += 1
            try:
                req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return resp.read()
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 500, 502, 503, 504) or attempt == self.retries:
                    raise
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt == self.retries:
                    raise
            time.sleep(min(30.0, self.delay * 2**attempt))
        raise AssertionError("unreachable")

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets our user agent fetch ``url``."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser = urllib.robotparser.RobotFileParser()
            try:
                parser.parse(
                    self._open(root + "/robots.txt").decode("utf-8", "replace").splitlines()
                )
            except urllib.error.HTTPError as exc:
                parser.parse([] if exc.code >= 400 else ["User-agent: *", "Disallow: /"])
            self._robots[root] = parser
        return self._robots[root].can_fetch(USER_AGENT, url)

    def get(self, url: str) -> bytes | None:
        """The page body (from the cache when fetched before), or None when robots.txt forbids."""
        path = self.cache / hashlib.sha256(url.encode()).hexdigest()
        if path.exists():
            return path.read_bytes()
        if not self.allowed(url):
            return None
        body = self._open(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
        return body


def web(
    urls: list[str] = [],  # noqa: B006
    delay: float = 1.0,
    retries: int = 3,
    timeout: float = 30.0,
    cache_dir: str | None = None,
    min_chars: int = 200,
) -> Any:
    """Web pages: main text extracted by trafilatura, one record per URL.

    Pages are fetched once and cached on disk; robots.txt is obeyed (a forbidden page is
    skipped and counted); requests to one host are spaced by ``delay`` seconds; failures
    (HTTP 429/5xx, timeouts) are retried with exponential back-off.

    Args:
        urls: Pages to fetch.
        delay: Seconds between two requests to the same host.
        retries: Retries of a failed request.
        timeout: Seconds to wait for one response.
        cache_dir: Where fetched pages are kept (None: ``~/.cache/plait/web``).
        min_chars: Skip pages whose extracted text is shorter than this.
    """
    try:
        import trafilatura
    except ImportError:
        raise install_hint("source 'web' (trafilatura)", "pip install trafilatura") from None
    if not urls:
        raise PlaitError("data.source.urls is empty; give the pages to fetch")
    fetcher = PoliteFetcher(cache_dir or default_cache(), delay, retries, timeout)
    texts, names = [], []
    for url in urls:
        try:
            body = fetcher.get(url)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise PlaitError(f"{url}: fetch failed after {retries} retries ({exc})") from None
        if body is None:
            continue
        text = trafilatura.extract(body.decode("utf-8", "replace"), url=url) or ""
        if len(text) >= min_chars:
            texts.append(text)
            names.append(url)
    return dataset({"text": texts, "path": names}, f"data.source.urls ({len(urls)} pages)")
