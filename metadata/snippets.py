"""Highlighted snippets: the passage of a text that best shows why it matched a query.

Matching is by folded words (diacritics optional), as in search; the last query word may match as a
prefix. The result is a list of (text, is_match) segments; rendering escapes every segment.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Sequence

from metadata.text import fold, fold_word, words

Segment = tuple[str, bool]


def _matcher(query_folded: Sequence[str], prefix_last: bool):
    exact = set(query_folded if not prefix_last else query_folded[:-1])
    prefix = query_folded[-1] if prefix_last and query_folded else None

    def matches(folded_word: str) -> bool:
        return folded_word in exact or (prefix is not None and folded_word.startswith(prefix))

    return matches


def snippet(
    texts: Iterable[str], query_folded: Sequence[str], *, prefix_last: bool = False, size: int = 32
) -> list[Segment]:
    """The window of about *size* words, over *texts* taken in order, that holds the most distinct query
    words (then the most matches, then the earliest). Without any match: the start of the first text."""
    matches = _matcher(query_folded, prefix_last)
    wanted = len(set(query_folded)) or 1
    best: tuple[tuple[int, int, int], str, list[tuple[int, int, bool]]] | None = None
    first_text = None
    for position, raw in enumerate(texts):
        text = unicodedata.normalize("NFC", raw)
        if not text.strip():
            continue
        if first_text is None:
            first_text = text
        folded_text = fold(text)
        if not any(q in folded_text for q in query_folded):
            continue  # cheap test on the whole text before splitting it into words
        tokens = [(s, e, fold_word(w)) for s, e, w in words(text)]
        if not tokens:
            continue
        flags = [matches(f) for _, _, f in tokens]
        if not any(flags):
            continue
        for start in (i for i, flag in enumerate(flags) if flag):
            lo = max(0, start - size // 4)
            window = range(lo, min(len(tokens), lo + size))
            distinct = {tokens[i][2] for i in window if flags[i]}
            score = (len(distinct), sum(flags[i] for i in window), -position)
            if best is None or score > best[0]:
                best = (score, text, [(tokens[i][0], tokens[i][1], flags[i]) for i in window])
        if best is not None and best[0][0] >= wanted:
            break  # a window already shows every query word: later texts cannot do better
    if best is None:
        if first_text is None:
            return []
        tokens = words(first_text)[:size]
        return _segments(first_text, [(s, e, False) for s, e, _ in tokens], len(words(first_text)) > size)
    _, text, spans = best
    last_word_end = words(text)[-1][1]
    return _segments(text, spans, spans[-1][1] < last_word_end, spans[0][0] > words(text)[0][0])


def _segments(text: str, spans: list[tuple[int, int, bool]], more_after: bool, more_before=False):
    if not spans:
        return []
    out: list[Segment] = []
    if more_before:
        out.append(("… ", False))
    cursor = spans[0][0] if more_before else 0
    for start, end, is_match in spans:
        if is_match:
            if start > cursor:
                out.append((text[cursor:start], False))
            out.append((text[start:end], True))
            cursor = end
    end_of_window = spans[-1][1] if more_after else len(text.rstrip())
    if end_of_window > cursor:
        out.append((text[cursor:end_of_window], False))
    if more_after:
        out.append((" …", False))
    return out


def to_html(segments: Iterable[Segment]) -> str:
    """Escape every segment and wrap matches in <mark>."""
    return "".join(f"<mark>{html.escape(t)}</mark>" if m else html.escape(t) for t, m in segments)
