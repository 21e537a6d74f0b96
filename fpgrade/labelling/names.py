"""What a user may type into a name or a free-text field (issue 16): checked on the way in, with
one clear line naming the field; escaped on the way out by the pages.

- **Campaign names** become file names (exports) and appear in every rater's page: letters of
  any script, digits, spaces and ``_ - . , ( ) + '``, 1-80 characters, starting with a letter or
  digit. No ``/`` (a path), no ``<``, ``>``, ``[``, ``]``, ``*``, backticks (markup).
- **Free text** (notes, reasons, comments): up to :data:`MAX_TEXT` characters, no control
  characters but newlines and tabs. Any character may appear; pages escape it on the way out.
- **User names**: :data:`fpgrade.labelling.users.NAME`.
"""

from __future__ import annotations

import re
import unicodedata

from fpgrade.labelling.model import LabellingError

CAMPAIGN_NAME = re.compile(r"[^\W_][\w .,()+'-]{0,79}")
MAX_TEXT = 1000


def campaign_name(value: str) -> str:
    """The campaign name, stripped, or :class:`LabellingError` saying what is allowed."""
    name = (value or "").strip()
    if not CAMPAIGN_NAME.fullmatch(name):
        raise LabellingError(
            f"campaign name {name[:40]!r}{'...' if len(name) > 40 else ''}: 1-80 letters, "
            "digits, spaces or _ - . , ( ) + ', starting with a letter or digit (no / < > [ ] "
            "* or backticks)" if name else "a campaign needs a name")
    return name


def free_text(value: str | None, field: str, *, limit: int = MAX_TEXT) -> str | None:
    """A note or reason, stripped (``None`` when empty), or :class:`LabellingError`."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise LabellingError(f"{field}: at most {limit} characters, not {len(text)}")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise LabellingError(f"{field}: contains control characters")
    return text
