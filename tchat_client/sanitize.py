"""Make untrusted text safe to show in a terminal: ``visible()``, ``visible_line()``.

Pure Python on purpose (no textual, no rich): the TUI and the line-oriented CLI both
show message bodies, names and topics through it.

A terminal does not display text, it executes it. Whoever can put bytes on someone's
screen can set the window title (OSC 0), write to the clipboard (OSC 52), clear the
screen or move the cursor (CSI), make hyperlinks that lie about their target (OSC 8),
and on some terminals make it answer with bytes that land in the shell's input
(DECRQSS, title reports). Rich and Textual strip only BEL, BS, VT, FF and CR (see
PITFALLS.md), so every string that came over the wire goes through ``visible()``
before it is shown. The rules, and why:

* C0 controls other than newline and tab (ESC included) become their Unicode
  *control pictures* (U+2400 + code, so ESC is ``␛``): the terminal never sees an
  escape sequence start, and the reader sees that one was attempted.
* A bare CR (not part of CRLF) would return the cursor and let the rest of the line
  overwrite what came before it, which hides text: it is shown as ``␍``. CRLF is a
  plain line break and becomes ``\\n``; so do U+2028/U+2029, which Rich measures as
  zero cells while terminals draw them.
* DEL becomes ``␡``.
* C1 controls (U+0080-U+009F) are 8-bit escape introducers (U+009B is CSI, U+009D
  is OSC) that some terminals honour; they have no control pictures, so they are
  spelled as ``<9b>``. Lone surrogates, which a terminal's encoder cannot write,
  are spelled the same way (``<d800>``).
* Bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E,
  U+2066-U+2069, U+200E, U+200F, U+061C) are removed: in a bidi-aware terminal they
  reorder everything after them on the line, which can make a message or a name read
  as something else ("Trojan Source"); without them, text shows in the order it was
  typed.
* Invisible characters that carry no meaning in a chat (zero width space U+200B,
  word joiner U+2060, BOM U+FEFF, invisible operators U+2061-U+2064, deprecated
  format controls U+206A-U+206F, interlinear annotations U+FFF9-U+FFFB, Mongolian
  vowel separator U+180E) are removed: they hide text from mention and keyword
  matching and make two different names look the same.
* ZWJ and ZWNJ are kept (emoji sequences and several scripts need them), but a run of
  them collapses to one: thousands of them are invisible yet cost layout time.
* Tag characters (U+E0000-U+E007F) are kept only right after a black flag (U+1F3F4),
  where they spell subdivision flags, and at most ``MAX_TAGS`` of them; anywhere else
  they are invisible text ("ASCII smuggling") and are removed.
* At most ``MAX_MARKS`` combining marks follow one base character: a stack of
  hundreds ("Zalgo") draws over neighbouring lines and is slow to lay out.

The output is at most ``6 * len(text)`` characters (a C1 control becomes 4, a lone
surrogate 6), and it contains no character below U+0020 other
than newline and tab, nor any in U+007F-U+009F.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_MARKS", "MAX_TAGS", "visible", "visible_line"]

MAX_MARKS = 4
"""Combining marks kept after one base character."""

MAX_TAGS = 7
"""Tag characters kept after a black flag (the longest subdivision flag needs 6)."""

_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_BLACK_FLAG = "\U0001f3f4"

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_INVISIBLE = frozenset(
    "\u200b\u2060\ufeff\u2061\u2062\u2063\u2064\u180e\ufff9\ufffa\ufffb"
    + "".join(chr(c) for c in range(0x206A, 0x2070))
)

# Text without C0/C1 controls, DEL or any character above U+02FF (most messages)
# holds nothing that ``visible`` changes and is returned as it is.
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]|[^\x00-\u02ff]")


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


def visible(text: str) -> str:
    """Return ``text`` made safe to write to a terminal; see the module docstring.

    Args:
        text: Untrusted text (a message body, a name, a topic).

    Returns:
        The text with controls made visible and invisible tricks removed or capped.
        Newlines and tabs are kept; laying out tabs is the caller's job.
    """
    if _SUSPECT.search(text) is None:
        return text
    out: list[str] = []
    marks = 0  # combining marks kept since the last base character
    tags = -1  # tag characters kept since a black flag; -1: not after a flag
    last = ""  # last character written (for collapsing ZWJ/ZWNJ runs)
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        i += 1
        code = ord(ch)
        piece: str
        if code < 0x20:
            if ch in "\n\t":
                piece = ch
            elif ch == "\r":
                if i < n and text[i] == "\n":
                    continue  # CRLF: the LF that follows is the line break
                piece = "\u240d"
            else:
                piece = chr(0x2400 + code)
        elif code == 0x7F:
            piece = "\u2421"
        elif 0x80 <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            piece = f"<{code:02x}>"
        elif ch in _BIDI or ch in _INVISIBLE:
            continue
        elif ch in "\u2028\u2029":
            piece = "\n"
        elif ch in (_ZWJ, _ZWNJ):
            if last in (_ZWJ, _ZWNJ):
                continue
            out.append(ch)
            last = ch
            continue  # a joiner neither starts nor ends a run of marks
        elif 0xE0000 <= code <= 0xE007F:
            if tags < 0 or tags >= MAX_TAGS:
                continue
            tags += 1
            out.append(ch)
            last = ch
            continue
        elif _is_mark(ch):
            if marks >= MAX_MARKS:
                continue
            marks += 1
            out.append(ch)
            last = ch
            continue
        else:
            piece = ch
        out.append(piece)
        last = piece[-1]
        marks = 0
        tags = 0 if ch == _BLACK_FLAG else -1
    return "".join(out)


def visible_line(text: str) -> str:
    """``visible(text)`` for a place that holds one line (a name, a topic): a newline
    shows as ``␤`` and a tab as a space."""
    shown = visible(text)
    if "\n" in shown or "\t" in shown:
        shown = shown.replace("\n", "\u2424").replace("\t", " ")
    return shown
