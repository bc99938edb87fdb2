"""Built-in cleaning steps: markup, URLs, e-mail addresses, mentions and hashtags, control
characters, whitespace, case and stop words. Each rewrites the ``text`` column."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser

from framework.data.steps import TextMap
from framework.errors import PlaitError, install_hint


class _TextOfHTML(HTMLParser):
    SKIP = {"script", "style", "head", "noscript", "template"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """Text content of HTML (Python's ``html.parser``), scripts and styles dropped."""
    if "<" not in text and "&" not in text:
        return text
    parser = _TextOfHTML()
    parser.feed(text)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def strip_html() -> TextMap:
    """Remove HTML/XML tags, scripts and styles; decode entities (``&amp;`` -> ``&``)."""
    return TextMap(html_to_text)


def wiki_markup() -> TextMap:
    """Remove MediaWiki markup (templates, links, tables, refs) with gensim's ``filter_wiki``."""
    try:
        from gensim.corpora.wikicorpus import filter_wiki
    except ImportError:
        raise install_hint("clean step 'wiki_markup' (gensim)", "pip install gensim") from None
    return TextMap(lambda t: filter_wiki(t).replace("'''", "").replace("''", ""))


_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")


def urls(replacement: str = "") -> TextMap:
    """Remove (or replace) web addresses: ``http(s)://``, ``ftp://`` and ``www.`` links.

    Args:
        replacement: Text put in place of each address (such as ``<url>``).
    """
    return TextMap(lambda t: _URL.sub(replacement, t))


def emails(replacement: str = "") -> TextMap:
    """Remove (or replace) e-mail addresses.

    Args:
        replacement: Text put in place of each address (such as ``<email>``).
    """
    return TextMap(lambda t: _EMAIL.sub(replacement, t))


def mentions(replacement: str = "", hashtags: str = "word") -> TextMap:
    """Social-media handles and tags: remove ``@user`` mentions; keep, strip or drop ``#tags``.

    Args:
        replacement: Text put in place of each @mention (such as ``@user``).
        hashtags: ``word`` (``#happy`` -> ``happy``), ``drop`` (remove the tag) or ``keep``.
    """
    if hashtags not in ("word", "drop", "keep"):
        raise PlaitError(
            f"data.clean.mentions.hashtags must be word, drop or keep, not '{hashtags}'"
        )

    def clean(t: str) -> str:
        t = _MENTION.sub(replacement, t)
        if hashtags == "word":
            return _HASHTAG.sub(r"\1", t)
        return _HASHTAG.sub("", t) if hashtags == "drop" else t

    return TextMap(clean)


def _no_control(t: str) -> str:
    return "".join(
        ch for ch in t if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def control_chars() -> TextMap:
    """Remove control, format, surrogate and private-use characters (newlines and tabs stay)."""
    return TextMap(_no_control)


def whitespace(keep_newlines: bool = True) -> TextMap:
    """Collapse runs of spaces and tabs (and carriage returns) into one space; trim the ends.

    Args:
        keep_newlines: Keep line breaks (blank-line runs become one blank line); false:
            every line break becomes a space too (single-line records such as tweets).
    """
    if keep_newlines:

        def clean(t: str) -> str:
            t = re.sub(r"[^\S\n]+", " ", t.replace("\r\n", "\n").replace("\r", "\n"))
            return re.sub(r" ?\n ?(?:\n ?)+", "\n\n", re.sub(r" ?\n ?", "\n", t)).strip()

        return TextMap(clean)
    return TextMap(lambda t: " ".join(t.split()))


def lowercase() -> TextMap:
    """Lower-case the text (Unicode-aware)."""
    return TextMap(str.lower)


def stop_word_set(
    language: str, extra: Iterable[str] = (), keep: Iterable[str] = (), where: str = "language"
) -> frozenset[str]:
    """Lower-case stop words of the ``stop-words`` package's list for ``language``, plus
    ``extra``, less ``keep``; ``where`` names the config key in errors."""
    try:
        from stop_words import StopWordError, get_stop_words
    except ImportError:
        raise install_hint("stop words (stop-words)", "pip install stop-words") from None
    try:
        words = {w.lower() for w in get_stop_words(language)}
    except StopWordError:
        raise PlaitError(
            f"{where}: no stop-word list for '{language}'; use an ISO 639-1 code such as en, "
            "de, fr, es"
        ) from None
    return frozenset((words | {w.lower() for w in extra}) - {w.lower() for w in keep})


def stopwords(
    language: str = "en",
    extra: list[str] = [],  # noqa: B006
    keep: list[str] = [],  # noqa: B006
) -> TextMap:
    """Remove stop words, from the ``stop-words`` package's lists (Alir3z4/stop-words).

    Never selected by default: language models need function words. Words are matched
    case-insensitively; punctuation around a word is kept.

    Args:
        language: ISO 639-1 code or name of the list (``en``, ``german``, ...).
        extra: Words removed as well.
        keep: Words of the list that stay (``not`` for sentiment, say).
    """
    words = stop_word_set(language, extra, keep, "data.clean.stopwords.language")
    token = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

    def clean(t: str) -> str:
        out = token.sub(lambda m: "" if m.group(0).lower() in words else m.group(0), t)
        return re.sub(r"[^\S\n]{2,}", " ", out).strip()

    return TextMap(clean)


def unescape() -> TextMap:
    """Decode HTML entities only (``&amp;`` -> ``&``), leaving any tags."""
    return TextMap(html.unescape)
