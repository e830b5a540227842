"""Finding open datasets from the search box, with the archive's matching rules.

The record index is built for hundreds of thousands of records; datasets number in the tens or hundreds, so
they are matched here, in memory, over what is public: titles, descriptions, keywords, publisher, table
titles and field names and titles, in every language. A query word matches a dataset word when their
folded forms (no diacritics, tones or đ) are equal, or when it is the start of one and at least three
letters long; every query word must match. Titles weigh most.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.core.i18n import localized_text
from archive.datasets import services
from archive.datasets.models import Dataset
from metadata.text import fold, words

#: Query words this short only match whole words.
MIN_PREFIX = 3


@dataclass(frozen=True)
class DatasetHit:
    """One matching dataset, in the interface language."""

    slug: str
    title: str
    description: str
    table_count: int
    row_count: int
    origin: str
    score: int


def _folded_words(texts) -> set[str]:
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(fold(w) for _s, _e, w in words(str(text)))
    return found


def _documents(dataset: Dataset) -> tuple[set[str], set[str]]:
    """(title words, other words) of a public dataset."""
    titles = [v.value for v in dataset.title_values]
    others = [v.value for v in dataset.description_values]
    others += [v.value for v in dataset.keyword_values] + [v.value for v in dataset.publisher_values]
    version = dataset.latest_version
    for table in version.tables if version else []:
        others += [v.value for v in table.title_values]
        for item in table.fields:
            others.append(item.get("name", "").replace("_", " "))
            others += list((item.get("titles") or {}).values())
            others.append(item.get("title", ""))
    return _folded_words(titles), _folded_words(others)


def _matches(word: str, vocabulary: set[str]) -> bool:
    if word in vocabulary:
        return True
    return len(word) >= MIN_PREFIX and any(w.startswith(word) for w in vocabulary)


def search_datasets(text: str) -> list[DatasetHit]:
    """Public datasets matching every word of *text*, best first (none for an empty query)."""
    query = [fold(w) for _s, _e, w in words(text or "")]
    query = list(dict.fromkeys(w for w in query if w))
    if not query:
        return []
    hits = []
    for dataset in services.public_datasets():
        title_words, other_words = _documents(dataset)
        score = 0
        for word in query:
            if _matches(word, title_words):
                score += 3
            elif _matches(word, other_words):
                score += 1
            else:
                break
        else:
            version = dataset.latest_version
            hits.append(
                DatasetHit(
                    slug=dataset.slug,
                    title=localized_text(dataset.title_values) or dataset.slug,
                    description=localized_text(dataset.description_values) or "",
                    table_count=len(version.tables),
                    row_count=sum(t.row_count for t in version.tables),
                    origin=dataset.origin,
                    score=score,
                )
            )
    hits.sort(key=lambda h: (-h.score, fold(h.title)))
    return hits
