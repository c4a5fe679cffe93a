"""A check's settings from argv, a --config file or a suite entry, parsed and merged."""

from __future__ import annotations

import argparse
import os

import nagiosplugin

from osops.check.output import FORMATS
from osops.exceptions import UsageError
from osops.options import Argument, resolve, secret_variable
from osops.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, NoReturn

    from osops.check.base import Check

DEFAULT_TIMEOUT = 10.0
#: The longest timeout a check or a suite may be given, in seconds.
MAX_TIMEOUT = 3600.0

#: The YAML file of option values, under argv.
CONFIG = Argument(
    "config",
    "YAML mapping of long option names to values, under the command line "
    "(secrets belong here or in the environment, never on argv).",
    metavar="FILE",
)
#: The options the framework gives every check, declared once: the parser, the
#: names a check may not declare, ``osops check export`` and the help derive from these.
FRAMEWORK = (
    Argument(
        "warning",
        "Warning threshold, [LABEL=]RANGE in Nagios range syntax; repeatable.",
        repeatable=True,
        metavar="[LABEL=]RANGE",
        short="w",
    ),
    Argument(
        "critical",
        "Critical threshold, [LABEL=]RANGE in Nagios range syntax; repeatable.",
        repeatable=True,
        metavar="[LABEL=]RANGE",
        short="c",
    ),
    Argument(
        "timeout",
        f"Seconds before the check gives up with UNKNOWN (default {DEFAULT_TIMEOUT:g}).",
        type="float",
        metavar="SECONDS",
        short="t",
    ),
    Argument(
        "verbose",
        "Long output; -vvv adds tracebacks of osops's own errors.",
        type="count",
        short="v",
        export=False,
    ),
    Argument(
        "output-format",
        f"{', '.join(FORMATS)} (default {FORMATS[0]}).",
        choices=FORMATS,
        export=False,
    ),
    CONFIG,
)
#: Option names a check must not declare: the framework's, and argparse's own.
RESERVED = frozenset(arg.name for arg in FRAMEWORK) | {"help", "version"}
#: What a --config file or a suite entry may set besides the check's own options.
_SETTABLE = frozenset(arg.dest for arg in FRAMEWORK if arg is not CONFIG)


class Settings(Value):
    """What the framework's options say for one run of one check.

    :param warning: warning ranges by perfdata label, from ``-w``
    :param critical: critical ranges by perfdata label, from ``-c``
    :param timeout: seconds the whole check may take
    :param verbose: 0 to 3
    :param output_format: one of :data:`osops.check.output.FORMATS`
    """

    __slots__ = ("warning", "critical", "timeout", "verbose", "output_format")

    def __init__(
        self,
        warning: Mapping[str, str] | None = None,
        critical: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        verbose: int = 0,
        output_format: str = "nagios",
    ) -> None:
        self.warning = dict(warning or {})
        self.critical = dict(critical or {})
        self.timeout = timeout
        self.verbose = verbose
        self.output_format = output_format


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser(name: str, cls: type[Check]) -> argparse.ArgumentParser:
    """The option parser of one check: its declared arguments and the reserved ones."""
    parser = _Parser(
        prog=f"osops check run {name}",
        description=(cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else None,
        argument_default=argparse.SUPPRESS,
    )
    framework = parser.add_argument_group("framework options")
    for arg in FRAMEWORK:
        _add(framework, arg, choices=True)
    own = parser.add_argument_group(f"options of {name}")
    for arg in cls.arguments:
        _add(own, arg)
    return parser


def _add(group: Any, arg: Argument, choices: bool = False) -> None:
    """One declared option into an argparse group; values stay text until settled.

    :param choices: let argparse refuse a value not among the choices (else settling does)
    """
    flags = [f"-{arg.short}"] if arg.short else []
    kwargs: dict[str, Any] = {"help": arg.help, "dest": arg.dest}
    if arg.type == "count":
        kwargs["action"] = "count"
    elif arg.is_flag:
        kwargs["action"] = "store_const"
        kwargs["const"] = True
    elif arg.choices and choices:
        kwargs["choices"] = arg.choices
    else:
        kwargs["metavar"] = arg.metavar or arg.dest.upper()
        if arg.repeatable:
            kwargs["action"] = "append"
    group.add_argument(*flags, f"--{arg.name}", **kwargs)


def usage_text() -> str:
    """The framework options in one sentence, for ``osops check run --help``."""
    shown = []
    for arg in FRAMEWORK:
        flags = "/".join(([f"-{arg.short}"] if arg.short else []) + [f"--{arg.name}"])
        if arg.type == "count":
            shown.append(f"{flags} (up to -{(arg.short or '') * 3})")
        elif arg.choices:
            shown.append(f"{flags} {'|'.join(arg.choices)}")
        else:
            repeat = " (repeatable)" if arg.repeatable else ""
            shown.append(f"{flags} {arg.metavar}{repeat}")
    return f"Every check takes {', '.join(shown[:-1])} and {shown[-1]}."


def _read_config(path: str) -> dict[str, Any]:
    from osops.files import read_yaml  # only checks given --config pay for YAML

    data = read_yaml(path, f"--config {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a mapping of option names to values")
    return data


def parse(name: str, cls: type[Check], argv: Sequence[str]) -> tuple[Settings, dict[str, Any]]:
    """Split argv into framework settings and the check's own option values.

    ``--config`` values sit under argv: what the command line gives wins.

    :returns: (framework settings, check options by dest)
    :raises UsageError: naming the option at fault
    """
    given = vars(build_parser(name, cls).parse_args(list(argv)))
    path = given.get(CONFIG.dest)
    config = _read_config(path) if path is not None else {}
    return settle(name, cls, config, f"--{CONFIG.name} {path}", given)


def settle(
    name: str,
    cls: type[Check],
    config: Mapping[str, Any],
    where: str,
    given: Mapping[str, Any] | None = None,
) -> tuple[Settings, dict[str, Any]]:
    """Merge option values from a mapping (a --config file, a suite entry) under argv's.

    :param config: long option names (or their snake_case) to values
    :param where: names the mapping in errors, e.g. "--config /etc/osops/x.yaml"
    :param given: what argparse parsed from argv, by dest
    :returns: (framework settings, check options by dest)
    :raises UsageError: an unknown option or a value that does not fit
    """
    declared = {arg.name: arg for arg in cls.arguments}
    framework = _SETTABLE
    merged: dict[str, Any] = {}
    for key, value in config.items():
        option = str(key).replace("_", "-")
        if option not in declared and option.replace("-", "_") not in framework:
            raise UsageError(f"{where}: unknown option {key!r}")
        merged[option] = value
    given = given or {}
    for arg in cls.arguments:
        # Secrets may also come from the environment (Icinga's CheckCommand env),
        # below --config and argv, so they never need to be on a command line.
        variable = secret_variable(arg.name)
        if arg.secret and arg.name not in merged and variable in os.environ:
            merged[arg.name] = os.environ[variable]
    by_dest = {arg.dest: arg.name for arg in cls.arguments}
    for dest, value in given.items():
        if dest in by_dest:
            merged[by_dest[dest]] = value
        elif dest in framework:
            merged[dest.replace("_", "-")] = value
    warning = _as_list(merged.pop("warning", []))
    critical = _as_list(merged.pop("critical", []))
    timeout = seconds(merged.pop("timeout", DEFAULT_TIMEOUT))
    verbose = _verbose(merged.pop("verbose", 0))
    output_format = merged.pop("output-format", "nagios")
    if output_format not in FORMATS:
        raise UsageError(f"--output-format: {output_format!r} is not one of {', '.join(FORMATS)}")
    options = resolve(cls.arguments, merged, f"check {name!r}")
    settings = Settings(
        thresholds(cls, name, warning, "warning"),
        thresholds(cls, name, critical, "critical"),
        timeout,
        verbose,
        output_format,
    )
    return settings, options


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def seconds(value: Any, where: str = "--timeout") -> float:
    """A timeout: a number of seconds above 0 and at most :data:`MAX_TIMEOUT`.

    :raises UsageError: naming ``where`` and the range (YAML's true, .nan and .inf too)
    """
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: expected seconds, got {value!r}") from None
    if not 0 < number <= MAX_TIMEOUT:  # nan is neither
        raise UsageError(
            f"{where}: must be more than 0 seconds and at most {MAX_TIMEOUT:g}, got {value!r}"
        )
    return number


def _verbose(value: Any) -> int:
    # argv gives a count; a --config file or a suite whatever YAML holds
    # ("verbose:" with no value is YAML's null: not set).
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"--verbose: expected a count (0 to 3), got {value!r}")
    return min(value, 3)


def thresholds(cls: type[Check], name: str, specs: Iterable[str], option: str) -> dict[str, str]:
    """Map ``LABEL=RANGE`` and bare ``RANGE`` (the primary metric) to labels.

    :raises UsageError: unknown label, or a range Nagios would not accept
    """
    labels = {perf.label for perf in cls.perfdata}
    found: dict[str, str] = {}
    for spec in specs:
        label, sep, text = spec.partition("=")
        if not sep:
            label, text = cls.primary_label() or "", spec
            if not label:
                raise UsageError(f"--{option}: check {name!r} has no metric to compare")
        label = label.strip()
        if label not in labels:
            raise UsageError(
                f"--{option}: check {name!r} has no metric {label!r} "
                f"(metrics: {', '.join(sorted(labels)) or 'none'})"
            )
        try:
            nagiosplugin.Range(text)
        except ValueError:
            raise UsageError(f"--{option}: {text!r} is not a Nagios range") from None
        found[label] = text
    return found
