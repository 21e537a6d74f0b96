"""Text a user typed, made safe to put into a page's Markdown (issue 16): shown as the letters
typed, never interpreted. Every Markdown punctuation mark is backslash-escaped (CommonMark,
section 2.4: any ASCII punctuation may be escaped), then ``&`` and ``<`` become entities, so no
HTML tag, link, image, emphasis, table cell or heading can come out of a name, note or reason.
Line breaks become spaces (a note cannot start a new Markdown block)."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>:\"'=^$%@/?,;])")


def md(value: object) -> str:
    """``value`` as literal text inside Markdown (``""`` for ``None``)."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    text = _PUNCTUATION.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;")
