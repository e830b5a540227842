"""Curators' Markdown to safe HTML: markdown-it-py without raw HTML, then nh3 as the sanitiser.

Raw HTML typed into the text is shown as text, never passed through; links may only point to http(s) or
mailto addresses and get rel="nofollow noopener"; images are not allowed (pictures in an exhibit go through
an image section, the IIIF Image API and a required alternative text); headings are shifted below the
section's own heading.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

#: Elements the rendered Markdown may keep.
ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre", "hr",
     "h3", "h4", "h5", "h6"}
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: The section heading is an <h2>: a "# heading" in the body becomes <h3>, and so on down to <h6>.
HEADING_SHIFT = 2

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def render_markdown(text: str, shift: int = HEADING_SHIFT) -> Markup:
    """Render a curator's Markdown as sanitised HTML, headings shifted by *shift* levels (at most h6)."""
    tokens = _md.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + shift)
            token.tag = f"h{level}"
    html = _md.renderer.render(tokens, _md.options, {})
    return Markup(sanitise(html))


def sanitise(html: str) -> str:
    """Keep only the allowed elements, attributes and URL schemes; links get rel="nofollow noopener"."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener",
        strip_comments=True,
    )
