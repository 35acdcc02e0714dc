"""User names that only look like an existing one are refused: any mix of case,
Cyrillic and Greek homoglyphs, accents, fullwidth forms, 0/o, 1/l, rn/m, vv/w and
separators folds to the same skeleton (a property over generated names), and the
server refuses such a registration over the wire."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import CloseCode, ErrorCode
from shared.frames import Error
from tchat_server.services.names import normalize_username, skeleton
from tests.conftest import PASSWORD, Running
from tests.wire import register

LOOK_ALIKES: dict[str, list[str]] = {
    "a": ["а", "α", "A", "ａ", "à", "á", "ä", "å"],
    "b": ["в", "β", "B"],
    "c": ["с", "ϲ", "ς", "ç", "C"],
    "d": ["ԁ"],
    "e": ["е", "ε", "ё", "é", "è", "E"],
    "h": ["һ", "H"],
    "i": ["1", "l", "і", "í", "ı", "I"],
    "j": ["ј"],
    "k": ["κ", "к", "K"],
    "l": ["1", "I", "і", "ӏ", "ł"],
    "m": ["м", "M"],
    "n": ["п", "η"],
    "o": ["0", "о", "ο", "O", "ö", "ó", "ｏ"],
    "p": ["р", "ρ"],
    "q": ["ԛ"],
    "s": ["ѕ", "5", "ś", "S"],
    "t": ["т", "τ"],
    "u": ["υ", "ü", "ú"],
    "v": ["ν"],
    "w": ["ԝ", "ω"],
    "x": ["х", "χ"],
    "y": ["у", "ý", "γ"],
    "z": ["ζ"],
    "-": [".", "_"],
}
"""What a reader cannot tell from each letter, written down independently of the
server's own table (letter pairs such as rn for m are below: next to other letters
they are ambiguous, "vvv" being both "wv" and "vw")."""

PAIRS = [
    ("mary", "rnary"),
    ("walter", "vvalter"),
    ("dave", "clave"),
    ("anna", "аnnа"),
    ("ali.ce", "ali_ce"),
    ("ali.ce", "ali--ce"),
]

names = st.text(alphabet="abcdehijklmnopqstuvwxyz", min_size=2, max_size=12)


@given(base=names, data=st.data())
def test_any_mix_of_look_alikes_has_the_name_s_skeleton(base: str, data: st.DataObject) -> None:
    disguised = "".join(data.draw(st.sampled_from([ch, *LOOK_ALIKES.get(ch, [])])) for ch in base)
    assert skeleton(normalize_username(disguised)) == skeleton(normalize_username(base))


@pytest.mark.parametrize(("name", "disguised"), PAIRS)
def test_letter_pairs_that_look_like_one_letter(name: str, disguised: str) -> None:
    assert skeleton(normalize_username(disguised)) == skeleton(normalize_username(name))


@pytest.mark.parametrize(
    "name",
    [
        "ali\u03c2e",  # final sigma for c
        "ali\u03f2e",  # lunate sigma for c
        "\u03b1lice",  # Greek alpha
        "al\u0456ce",  # Ukrainian i
        "ALİCE",  # dotted capital I
        "a1ice",
    ],
)
async def test_registering_a_look_alike_is_refused(srv: Running, name: str) -> None:
    await srv.user("alice")
    wire = await register(srv.url, name, PASSWORD)
    srv.wires.append(wire)
    error = await wire.find(Error)
    closed = await wire.wait_closed()
    assert error.code in (ErrorCode.USERNAME_TAKEN, ErrorCode.USERNAME_INVALID), name
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.AUTH_FAILED
    assert [u.name for u in await srv.services.users.list_all()] == ["alice"]
