"""The dummy check: returns the state and text it is given."""

from __future__ import annotations

from osops.check.base import Check, Detail, State
from osops.options import Argument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


class Dummy(Check):
    """Return the given state and text, for testing notification paths and pipelines."""

    arguments = (
        Argument(
            "state",
            "State to return: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            type="int",
            default=0,
            choices=("0", "1", "2", "3"),
        ),
        Argument("text", "Text of the status line.", default="dummy"),
    )

    def probe(self) -> Iterator[Detail]:
        yield Detail(self.options["text"], State(self.options["state"]))
