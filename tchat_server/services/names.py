"""User and room names: normalisation, the allowed characters, confusable skeletons.

A user name is NFKC-normalised, 2-32 characters of letters, digits, ``.``, ``_``
and ``-`` (no bidi controls, zero-width or other invisible characters), and is
refused when its *skeleton* equals an existing name's: the skeleton folds case
and maps characters that look alike (Cyrillic ``а`` and Latin ``a``, ``0`` and
``o``, ``rn`` and ``m``...) to one representative, in the spirit of Unicode
TR39's confusable detection.
"""

from __future__ import annotations

import re
import unicodedata

from shared.errors import ErrorCode, ProtocolError

__all__ = ["normalize_room_name", "normalize_username", "skeleton"]

_NAME_CHARS = re.compile(r"[\w.\-]+")

# Look-alikes folded onto one representative (after casefold). Covers the
# Latin/Cyrillic/Greek homoglyphs and the digit/letter pairs people actually use.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "l",
        "ї": "l",
        "ј": "j",
        "һ": "h",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ӏ": "l",
        "ь": "b",
        "г": "r",
        "п": "n",
        "л": "n",
        "д": "a",
        "з": "3",
        "ч": "4",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "l",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "ω": "w",
        "μ": "u",
        "ς": "c",
        "σ": "o",
        "ϲ": "c",
        "ζ": "z",
        # Latin look-alikes and digits
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "5": "s",
        "ı": "l",
        "ł": "l",
        "ß": "b",
        "_": "-",
        ".": "-",
    }
)


def skeleton(name: str) -> str:
    """The form two names share when they look alike (used for uniqueness)."""
    # Mapped before case folding too: casefold() turns some look-alikes into letters
    # that look like something else (final sigma "ς", like a c, becomes "σ", like an o).
    folded = unicodedata.normalize("NFKD", name.translate(_CONFUSABLES).casefold())
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    mapped = stripped.translate(_CONFUSABLES)
    mapped = mapped.replace("rn", "m").replace("vv", "w").replace("cl", "d")
    return re.sub(r"-+", "-", mapped)


def normalize_username(raw: str) -> str:
    """NFKC form of a requested user name.

    Raises:
        ProtocolError: ``username_invalid`` with the reason.
    """
    name = unicodedata.normalize("NFKC", raw)
    if not 2 <= len(name) <= 32:
        raise ProtocolError(ErrorCode.USERNAME_INVALID, "a user name has 2 to 32 characters")
    if not _NAME_CHARS.fullmatch(name) or any(_invisible(ch) for ch in name):
        raise ProtocolError(
            ErrorCode.USERNAME_INVALID,
            "a user name may hold only letters, digits, '.', '_' and '-'",
        )
    if not name[0].isalnum():
        raise ProtocolError(ErrorCode.USERNAME_INVALID, "a user name starts with a letter or digit")
    return name


def normalize_room_name(raw: str) -> str:
    """The stored form of a channel or group name: no leading '#', NFKC, lower case,
    1-80 characters of letters, digits, '.', '_' and '-'.

    Raises:
        ProtocolError: ``name_invalid`` with the reason.
    """
    name = unicodedata.normalize("NFKC", raw.strip()).removeprefix("#").lower()
    if not 1 <= len(name) <= 80:
        raise ProtocolError(ErrorCode.NAME_INVALID, "a room name has 1 to 80 characters")
    if not _NAME_CHARS.fullmatch(name) or any(_invisible(ch) for ch in name):
        raise ProtocolError(
            ErrorCode.NAME_INVALID,
            "a room name may hold only letters, digits, '.', '_' and '-' (no spaces)",
        )
    return name


def _invisible(ch: str) -> bool:
    """Format (bidi, zero-width), control and unassigned characters."""
    return unicodedata.category(ch) in {"Cf", "Cc", "Cn", "Co", "Cs", "Zs", "Zl", "Zp"}
