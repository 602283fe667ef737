"""Text shown as written inside Streamlit's Markdown: paths, file patterns, exception messages.

Streamlit renders every message (``st.error``, ``st.warning``, ``st.info``, ``st.markdown``,
headers, captions) as Markdown with its own extras (``:red[…]`` colours, ``:material/…:`` icons,
``:smile:`` emoji, ``$…$`` LaTeX). A path such as ``train/<class>/*.png`` then loses its ``*``
and ``<class>`` and turns the rest of the line into italics. Put such text through
:func:`literal` (plain text) or :func:`code` (a code span) before it goes into a message.
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LONGEST_TICKS = re.compile("`+")


def literal(text: object) -> str:
    """``text`` on one line with every ASCII punctuation character backslash-escaped, so Markdown
    (and Streamlit's colour, icon, emoji and LaTeX syntax) shows it exactly as written."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def code(text: object) -> str:
    """``text`` as one inline code span (monospace, shown as written), however many backticks it
    holds. Text that Streamlit would change even inside code (``:material/…:`` icon names, which
    it rewrites before parsing) falls back to :func:`literal`."""
    flat = " ".join(str(text).split())
    if not flat or ":material/" in flat:
        return literal(flat)
    fence = "`" * (max((len(run) for run in _LONGEST_TICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
