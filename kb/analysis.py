"""Polish text analysis for search: lowercase, stem with pystempel, fold diacritics (ł → l too)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

Stem = Callable[[str], "str | None"]

WORD = re.compile(r"\w+", re.UNICODE)
_LATIN = re.compile(r"^[a-ząćęłńóśźż]+$")
# ł/Ł have no Unicode decomposition, so NFKD leaves them; fold them by hand.
_EXTRA_FOLDS = str.maketrans({"ł": "l", "Ł": "l", "ß": "ss", "ø": "o", "đ": "d"})

# Words that carry no meaning in a query or a caller's transcript (folded forms).
_STOPWORDS_RAW = """
a aby ale albo ani bo by był była było być chce chcę chcialabym chciałabym chcialbym chciałbym
co czy dla do dzien dzień dobry gdzie i ich ile jak jaki jaka jakie jest już juz kiedy ktory który
ktora która ktore które lub ma mam mi mnie moj mój moja moje na nad nie o od oraz pan pani po pod
przez przy sa są sie się tak tam ten ta te tego to tu tez też u w we wiec więc z za ze że
the of and or to in on for is my i a an how what where when do does can
і й в у на з до що як це я
"""


def fold(text: str) -> str:
    """Lowercase and strip diacritics (ą→a, ó→o, ł→l), for index and query alike."""
    lowered = text.lower().translate(_EXTRA_FOLDS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


STOPWORDS = frozenset(fold(word) for word in _STOPWORDS_RAW.split())


@dataclass(frozen=True)
class Token:
    """A word of the original text: where it is and the terms it is indexed under."""

    start: int
    end: int
    terms: frozenset[str]


class PolishAnalyzer:
    """Turns text into search terms. Each word gives its folded form and its folded stems.

    The polimorf stemmer is not consistent on its own (droga→drogi, drodze→droga) and gives
    other stems for words typed without diacritics (zgloszenia→zglosić); so a word is indexed
    under several terms — folded surface, stem, stem of the stem, stem of the folded word — and a
    query word matches when any of its terms meets any of the document's.
    """

    def __init__(self, stem: Stem):
        self._stem = stem

    def _stems(self, word: str) -> Iterator[str]:
        if len(word) < 3 or not _LATIN.match(word):
            return
        first = self._checked(word, self._stem(word))
        if first:
            yield first
            second = self._checked(word, self._stem(first))
            if second:
                yield second
        folded = fold(word)
        if folded != word:
            third = self._checked(word, self._stem(folded))
            if third:
                yield third

    @staticmethod
    def _checked(word: str, stem: str | None) -> str | None:
        # The stemmer invents long words for short or unknown ones (duzej→duzejezioro, na→nativus).
        if not stem or len(stem) < 2 or len(stem) > len(word) + 2 or stem[:2] != word[:2]:
            return None
        return stem

    @functools.lru_cache(maxsize=200_000)  # noqa: B019 - one analyzer per process, words repeat
    def word_terms(self, word: str) -> frozenset[str]:
        """Terms for one lowercase word (empty for stopwords)."""
        folded = fold(word)
        if folded in STOPWORDS:
            return frozenset()
        terms = {folded}
        terms.update(fold(stem) for stem in self._stems(word))
        return frozenset(t for t in terms if t)

    def tokens(self, text: str) -> list[Token]:
        out = []
        for match in WORD.finditer(text):
            terms = self.word_terms(match.group().lower())
            if terms:
                out.append(Token(match.start(), match.end(), terms))
        return out

    def index_text(self, text: str) -> str:
        """The space-separated terms stored in the search index for `text`."""
        return " ".join(
            sorted_terms for token in self.tokens(text) for sorted_terms in sorted(token.terms)
        )

    def query_groups(self, text: str) -> list[frozenset[str]]:
        """One set of alternative terms per meaningful query word, in order, duplicates dropped."""
        groups: list[frozenset[str]] = []
        for token in self.tokens(text):
            if token.terms not in groups:
                groups.append(token.terms)
        return groups

    def last_word_prefix(self, text: str) -> str | None:
        """The folded last word if the text does not end in a space (the agent is typing)."""
        if not text or text[-1].isspace():
            return None
        words = WORD.findall(text)
        if not words:
            return None
        last = fold(words[-1])
        return last if len(last) >= 3 and last not in STOPWORDS else None


_load_lock = threading.Lock()


@functools.cache
def _polimorf() -> Stem:
    import pystempel.streams
    from pystempel import Stemmer

    # pystempel draws a tqdm progress bar on stderr while it reads its 11 MB table (its switch is
    # a module global read at import) and uses the deprecated importlib.resources.path(). Both
    # are silenced for pystempel alone: redirecting stderr from this thread would swap it for
    # the whole process while the table loads (anything printed meanwhile was lost).
    pystempel.streams.DISABLE_TQDM = True
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pystempel(\.|$)")
    stemmer = Stemmer.polimorf()

    def stem(word: str) -> str | None:
        return stemmer(word) if word else None

    return stem


def polish_analyzer() -> PolishAnalyzer:
    """The process-wide analyzer (loads the stemmer, ≈5 s, the first time: call it off the loop)."""
    with _load_lock:
        return _shared_analyzer()


@functools.cache
def _shared_analyzer() -> PolishAnalyzer:
    return PolishAnalyzer(_polimorf())


async def load_polish_analyzer() -> PolishAnalyzer:
    """The process-wide analyzer, loaded in a daemon thread of its own so the event loop never
    waits on it. Not in the loop's default executor: `asyncio.run` joins that executor's threads
    when it ends, so a process stopped during the load (Ctrl-C in the demo's first seconds)
    would wait the ≈5 s (15 s on a busy machine) before exiting."""
    loop = asyncio.get_running_loop()
    loaded: asyncio.Future[PolishAnalyzer] = loop.create_future()

    def settle(analyzer: PolishAnalyzer | None, error: BaseException | None) -> None:
        if loaded.done():  # the waiting task was cancelled
            return
        if error is not None:
            loaded.set_exception(error)
        else:
            loaded.set_result(cast(PolishAnalyzer, analyzer))

    def load() -> None:
        try:
            analyzer, error = polish_analyzer(), None
        except Exception as exc:
            analyzer, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
            loop.call_soon_threadsafe(settle, analyzer, error)

    threading.Thread(target=load, name="polish-analyzer-load", daemon=True).start()
    return await loaded
