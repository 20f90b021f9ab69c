"""The forum's one search rule, the same on every database.

A finding's title and body are split into words (runs of Unicode letters and digits), lower-cased and
stemmed with the Snowball English stemmer; each distinct stem is a row of `finding_terms`. A query is
normalised the same way and matches the findings that hold every one of its stems. No stop words are
dropped, no database text-search parser is involved: SQLite and PostgreSQL answer alike by construction.
"""

from __future__ import annotations

import functools
import re

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERM = 64  # longer words are cut to this many characters (in the index and in queries alike)
MAX_QUERY_TERMS = 32


@functools.lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - snowballstemmer has no type hints
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)[:MAX_TERM]


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order (repeats kept)."""
    return [_stem(w[:256]) for w in WORD_RE.findall(text.lower())]


def terms(*texts: str) -> set[str]:
    """The distinct stems of some texts (what a finding is indexed under)."""
    out: set[str] = set()
    for text in texts:
        out.update(words(text))
    out.discard("")
    return out


def query_terms(query: str) -> list[str]:
    """The distinct stems of a query, in order, at most MAX_QUERY_TERMS."""
    return [t for t in dict.fromkeys(words(query)) if t][:MAX_QUERY_TERMS]
