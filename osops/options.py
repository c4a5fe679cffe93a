"""Declarative plugin arguments, read by the CLI, the Icinga export and the docs."""

from __future__ import annotations

import math
import os
import re

from osops.exceptions import UsageError
from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "count": int}


class Argument(Value):
    """One option a plugin accepts: ``--<name>`` for a check, ``--option <name>=`` elsewhere.

    :param name: long option name in kebab case, e.g. ``service-type``
    :param help: one sentence shown by ``--help``, ``plugin show`` and the Icinga export
    :param type: ``str``, ``int``, ``float``, ``bool`` (a flag that takes no value) or
        ``count`` (a flag given once or more, ``-vvv``: its value is how many times)
    :param default: value when the option is not given
    :param required: the plugin cannot run without it
    :param repeatable: may be given several times; the value is then a list
    :param secret: a password or token: never echoed, and exported to Icinga only
        through a ``--config`` file or the environment, never argv
    :param choices: the only values accepted
    :param metavar: placeholder in usage text
    :param min: for ``int`` and ``float``, the lowest value accepted
    :param max: for ``int`` and ``float``, the highest value accepted
    :param short: the one-letter form (``w`` for ``-w``); only the framework's
        options have one (``-w -c -t -v``), as the Nagios plugin guidelines reserve them
    :param export: whether ``osops check export`` passes it on; False for an
        option meant for people at a terminal rather than a monitoring system
    """

    __slots__ = (
        "name",
        "help",
        "type",
        "default",
        "required",
        "repeatable",
        "secret",
        "choices",
        "metavar",
        "min",
        "max",
        "short",
        "export",
    )

    def __init__(
        self,
        name: str,
        help: str,
        type: str = "str",
        default: Any = None,
        required: bool = False,
        repeatable: bool = False,
        secret: bool = False,
        choices: tuple[str, ...] = (),
        metavar: str | None = None,
        min: float | None = None,
        max: float | None = None,
        short: str | None = None,
        export: bool = True,
    ) -> None:
        self.name = name
        self.help = help
        self.type = type
        self.default = default
        self.required = required
        self.repeatable = repeatable
        self.secret = secret
        self.choices = choices
        self.metavar = metavar
        self.min = min
        self.max = max
        self.short = short
        self.export = export

    @property
    def dest(self) -> str:
        """The attribute name the value is stored under."""
        return self.name.replace("-", "_")

    @property
    def is_flag(self) -> bool:
        return self.type == "bool"

    def problems(self) -> list[str]:
        """Contract violations of this declaration, empty when it is sound."""
        found = []
        if not _NAME.match(self.name):
            found.append(f"argument name {self.name!r} is not kebab-case")
        if self.type not in _TYPES:
            found.append(f"argument {self.name!r} has unknown type {self.type!r}")
        if not self.help.strip():
            found.append(f"argument {self.name!r} has no help text")
        if self.type in ("bool", "count") and (self.repeatable or self.choices):
            found.append(f"flag {self.name!r} cannot be repeatable or have choices")
        if self.short is not None and not (len(self.short) == 1 and self.short.isalpha()):
            found.append(f"argument {self.name!r} has short form {self.short!r}, not one letter")
        if self.required and self.default is not None:
            found.append(f"argument {self.name!r} is required but has a default")
        bounded = self.min is not None or self.max is not None
        if bounded and self.type not in ("int", "float", "count"):
            found.append(f"argument {self.name!r} has a range but is not a number")
        elif self.min is not None and self.max is not None and self.min > self.max:
            found.append(f"argument {self.name!r} has min above max")
        return found

    @property
    def kind(self) -> str:
        """The type and range in words, e.g. ``int from 1 to 65535``."""
        low, high = _shown(self.min), _shown(self.max)
        if self.min is not None and self.max is not None:
            return f"{self.type} from {low} to {high}"
        if self.min is not None:
            return f"{self.type} of at least {low}"
        if self.max is not None:
            return f"{self.type} of at most {high}"
        return self.type

    def convert(self, raw: Any) -> Any:
        """Turn one raw value (from argv, ``KEY=VALUE`` or YAML) into the declared type.

        :raises UsageError: naming the option when the value does not fit
        """
        if self.repeatable and isinstance(raw, list | tuple):
            return [self._convert_one(item) for item in raw]
        value = self._convert_one(raw)
        return [value] if self.repeatable else value

    def _convert_one(self, raw: Any) -> Any:
        kind = _TYPES.get(self.type, str)
        try:
            if kind is bool:
                if isinstance(raw, bool):
                    return raw
                text = str(raw).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError(raw)
            if kind is not str and isinstance(raw, bool):
                raise ValueError(raw)  # YAML's true is no number
            if kind is int and isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)  # nor is 2.5 a port or a count
            value = kind(raw)
            if kind is float and not math.isfinite(value):
                raise ValueError(raw)  # nan and inf are no timeout, nor any other setting
            if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max
            ):
                raise ValueError(raw)
        except (TypeError, ValueError, OverflowError):
            shown = "<hidden>" if self.secret else repr(raw)
            raise UsageError(f"--{self.name}: expected {self.kind}, got {shown}") from None
        if self.choices and str(value) not in self.choices:
            raise UsageError(f"--{self.name}: {value!r} is not one of {', '.join(self.choices)}")
        return value


def problems_of(arguments: Any, reserved: frozenset[str] = frozenset()) -> list[str]:
    """Contract violations of a plugin's ``arguments`` declaration, empty when it is sound.

    :param reserved: names the plugin may not declare (the framework's own)
    """
    found: list[str] = []
    seen: set[str] = set()
    for arg in arguments:
        if not isinstance(arg, Argument):
            found.append(f"argument {arg!r} is not an osops.options.Argument")
            continue
        found.extend(arg.problems())
        if arg.name in seen:
            found.append(f"argument {arg.name!r} is declared twice")
        if arg.name in reserved:
            found.append(f"argument {arg.name!r} is reserved by the framework")
        seen.add(arg.name)
    return found


def _shown(number: float | None) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def secret_variable(option: str) -> str:
    """The environment variable a secret option is read from: ``OSOPS_<OPTION>``."""
    return "OSOPS_" + option.upper().replace("-", "_")


def parse_options(arguments: tuple[Argument, ...], pairs: list[str], where: str) -> dict[str, Any]:
    """Parse repeated ``KEY=VALUE`` strings against declared arguments (sinks, filters).

    :param where: what the options are for, named in errors (e.g. ``sink 'jsonl'``)
    :returns: every declared option's value, defaults filled in
    """
    declared = {arg.name: arg for arg in arguments}
    given: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("_", "-")
        if not sep:
            raise UsageError(f"{where}: option {pair!r} is not KEY=VALUE")
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise UsageError(f"{where}: unknown option {key!r} (known: {known})")
        given.setdefault(key, []).append(value)
    for arg in arguments:
        # Secrets may come from the environment (a 0600 EnvironmentFile), never argv.
        if arg.secret and arg.name not in given and secret_variable(arg.name) in os.environ:
            given[arg.name] = [os.environ[secret_variable(arg.name)]]
    return resolve(arguments, given, where)


def resolve(
    arguments: tuple[Argument, ...], given: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Convert given raw values, fill defaults and enforce required options."""
    values: dict[str, Any] = {}
    for arg in arguments:
        if arg.name in given:
            raw = given[arg.name]
            if isinstance(raw, list) and not arg.repeatable:
                raw = raw[-1]
            values[arg.dest] = arg.convert(raw)
        elif arg.required:
            raise UsageError(f"{where}: option {arg.name!r} is required")
        else:
            values[arg.dest] = arg.default
    return values
