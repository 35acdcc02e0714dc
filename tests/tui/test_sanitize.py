"""sanitize.visible: terminal injection payloads come out inert and bounded."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tchat_client.sanitize import MAX_MARKS, visible, visible_line

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

PAYLOADS = {
    "osc0-title": "\x1b]0;pwned\x07",
    "osc52-clipboard": "\x1b]52;c;aGVsbG8=\x07",
    "csi-clear": "\x1b[2J",
    "c1-csi": "\x9b31mred",
    "bel": "ding\x07",
    "bare-cr": "innocent\rEVIL",
    "bidi-override": "invoice\u202eexe.pdf",
    "osc8-hyperlink": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "decrqss": '\x1bP$q"p\x1b\\',
    "zwj-flood": "a" + "\u200d" * 10_000 + "b",
    "zalgo": "e" + "\u0301" * 500,
}


def assert_inert(text: str) -> None:
    for ch in text:
        code = ord(ch)
        assert code >= 0x20 or ch in "\n\t", f"C0 control {code:#x} left"
        assert not 0x7F <= code <= 0x9F, f"DEL/C1 control {code:#x} left"
        assert ch not in BIDI, f"bidi control {code:#x} left"


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payloads_come_out_inert_and_bounded(payload: str) -> None:
    shown = visible(payload)
    assert_inert(shown)
    assert len(shown) <= 4 * len(payload)
    assert len(shown) <= 64


def test_escape_sequences_stay_readable() -> None:
    assert visible("\x1b[2J") == "␛[2J"
    assert visible("\x1b]0;pwned\x07") == "␛]0;pwned␇"
    assert visible("\x00\x7f") == "␀␡"
    assert visible("\x9b") == "<9b>"


def test_line_endings() -> None:
    assert visible("a\r\nb") == "a\nb"
    assert visible("a\rb") == "a␍b"
    assert visible("a\u2028b") == "a\nb"
    assert visible("tab\there\nnext") == "tab\there\nnext"


def test_bidi_controls_and_invisibles_are_removed() -> None:
    assert visible("invoice\u202eexe.pdf") == "invoiceexe.pdf"
    assert visible("ad\u200bmin\ufeff\u2060") == "admin"


def test_floods_are_capped() -> None:
    assert visible("a" + "\u200d" * 10_000 + "b") == "a\u200db"
    assert visible("e" + "\u0301" * 500) == "e" + "\u0301" * MAX_MARKS
    # Interleaving joiners does not reset the count of marks.
    assert len(visible("a" + "\u200d\u0301" * 1000)) <= 2 + 2 * MAX_MARKS


def test_legitimate_text_survives() -> None:
    for text in [
        "plain ascii, nothing to do",
        "café, naïve, Ελληνικά, русский, 日本語, עברית, العربية",
        "👨\u200d👩\u200d👧 family, 👍🏽 tone, ❤️ heart, 1️⃣ keycap",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",
        "Vi\u1ec7t Nam, e\u0301 decomposed",
    ]:
        assert visible(text) == text


def test_plain_text_is_returned_as_is() -> None:
    text = "hello world"
    assert visible(text) is text


def test_lone_surrogates_become_visible() -> None:
    assert visible("a\ud800b") == "a<d800>b"


@given(st.text())
def test_any_text_comes_out_inert_and_bounded(text: str) -> None:
    shown = visible(text)
    assert_inert(shown)
    assert len(shown) <= 6 * len(text)


@given(st.text())
def test_visible_is_idempotent(text: str) -> None:
    once = visible(text)
    assert visible(once) == once


def test_sanitize_and_model_import_no_textual_nor_rich() -> None:
    code = (
        "import sys, tchat_client.sanitize, tchat_client.tui.model; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_visible_line_keeps_to_one_line() -> None:
    assert visible_line("mal\nlory\t\x1b") == "mal\u2424lory ␛"
    assert visible_line("alice") == "alice"
