"""The oslo.log head read by hand (osops_logging.heads) says what the regex formats.OSLO says.

The regex is the definition; the hand-written reader must give the same
groups and end for every line it decides, say "none" only where the regex
finds no match, and may give up on anything. Held on the bundled samples,
the real logs of ../shared/data and a generated corpus, then on lines of
those mutated where the head is, with characters the grammar turns on
(digits of other scripts, Unicode spaces, control characters, quotes).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from osops_logging import formats
from osops_logging.heads import ASK, NONE, oslo_head

sys.path.insert(0, str(ROOT / "bench"))
import make_corpus  # bench/ is no package: on the path above

SHARED = ROOT.parent / "shared" / "data" / "logs"
# What the head's grammar turns on, and what looks like it but is not.
TRICKY = [
    *"0123456789 -:.,T[]\"'uAZINFOERDBGa/\t\x0b\x1c\x00\x7f",
    "\u0663",  # ARABIC-INDIC DIGIT THREE: \d, not 0-9
    "\u00a0",  # NO-BREAK SPACE: \s
    "\u2028",  # LINE SEPARATOR: \s
    "é",
    "Ⅻ",  # ROMAN NUMERAL: not \d
    "²",  # SUPERSCRIPT TWO: isdigit() but not \d
    "É",  # isupper() and isalpha() but not [A-Z]
    # oslo.messaging's remote traceback is a list, never a context: "[u'..." and "['...".
    " [u'",
    ' [u"',
    " ['",
    ' ["',
    " [",
    "] ",
]


def reference(raw: str) -> tuple[str, str, str, str, str, str, bool, int] | None:
    match = formats.OSLO.match(raw)
    if match is None:
        return None
    date, clock, pid, level, logger, ctx = match.groups()
    return (date, clock, pid or "", level, logger, ctx or "", ctx is not None, match.end())


def agrees(raw: str) -> bool:
    """Whether the hand-written reader says what the regex does (or gives up); True if decided."""
    head = oslo_head(raw)
    expected = reference(raw)
    if head[7] == ASK:
        return False
    if head[7] == NONE:
        assert expected is None, f"reader says no head, the regex finds {expected}: {raw!r}"
    else:
        assert head == expected, f"{raw!r}"
    return True


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    paths = list((ROOT / "contrib" / "logging" / "samples").rglob("*.log"))
    paths += list(SHARED.rglob("*.log")) if SHARED.is_dir() else []
    paths += make_corpus.write(tmp_path_factory.mktemp("corpus"), 20000, seed=5)
    found: list[str] = []
    for path in paths:
        found += Path(path).read_text(errors="replace").splitlines()
    return found


def test_real_and_generated_lines(lines: list[str]) -> None:
    decided = sum(agrees(raw) for raw in lines)
    # The reader must earn its keep: nearly every oslo.log line is decided by it.
    assert decided > 0.97 * len(lines)


def test_lines_mutated_where_the_head_is(lines: list[str]) -> None:
    rng = random.Random(11)
    heads = [raw for raw in lines if reference(raw)]
    decided = 0
    for _ in range(60000):
        raw = rng.choice(heads)
        head = reference(raw)
        cut = (head[7] if head else 40) + 5
        chars = list(raw)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, min(cut, len(chars)))
            kind = rng.random()
            if kind < 0.4 and at < len(chars):
                chars[at] = rng.choice(TRICKY)
            elif kind < 0.7:
                chars.insert(at, rng.choice(TRICKY))
            elif at < len(chars):
                del chars[at]
        decided += agrees("".join(chars))
    assert decided > 20000  # most mutants are still decided by the reader, not handed on


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from([*TRICKY, "2", "0", "1", " ", "-", ":", "["]), max_size=40).map(
        "".join
    )
)
def test_strings_of_the_grammars_characters(text: str) -> None:
    for raw in (text, "2024-05-01 10:00:00" + text, "2024-05-01 10:00:00.123 42 INFO a" + text):
        agrees(raw)
