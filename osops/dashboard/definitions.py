"""Finding, loading and validating dashboard definitions, with errors naming file and line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from importlib import resources
from typing import Any

from osops.dashboard.model import Dashboard
from osops.exceptions import DashboardError

#: Where pip installs the bundled definitions (setup.cfg data_files).
INSTALLED = os.path.join(sys.prefix, "share", "osops", "dashboards")
#: The longest problem message shown (schema errors quote the value at fault).
_MESSAGE = 300


def directory() -> str:
    """The definitions directory: $OSOPS_DASHBOARDS, else the installed ones."""
    return os.environ.get("OSOPS_DASHBOARDS") or INSTALLED


def files(where: str | None = None) -> list[str]:
    """Every ``*.yaml`` definition in a directory, sorted."""
    folder = where or directory()
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
    except OSError as exc:
        raise DashboardError(f"{folder}: {exc.strerror}") from None
    return [os.path.join(folder, name) for name in names]


def schema() -> dict[str, Any]:
    text = resources.files("osops.dashboard").joinpath("schema.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _line(node: Any, path: Iterable[Any]) -> int:
    """1-based line of the YAML node at a JSON path, as deep as the path exists."""
    import yaml

    line = node.start_mark.line
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == step), None)
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(step, int)
            and step < len(node.value)
        ):
            match = node.value[step]
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line
    return int(line) + 1


def _field(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def problems(path: str) -> list[str]:
    """Every way a definition file is broken, each as ``FILE:LINE: FIELD: what``."""
    import jsonschema

    from osops.files import YamlError, read_yaml_document

    try:
        node, data = read_yaml_document(path, path)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        detail = f" ({exc.detail})" if exc.detail else ""
        return [f"{path}{where}: {exc.problem}{detail}"]
    if node is None:
        return [f"{path}:1: (top level): empty file"]
    validator = jsonschema.Draft202012Validator(schema())
    found = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        location = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # Point at the unexpected key itself, not at the mapping holding it.
            allowed = set(error.schema.get("properties", {}))
            location.append(sorted(set(error.instance) - allowed)[0])
        message = error.message  # quotes the value at fault, which may be big
        if len(message) > _MESSAGE:
            message = message[: _MESSAGE - 3] + "..."
        found.append(f"{path}:{_line(node, location)}: {_field(location)}: {message}")
    return found


def load(path: str) -> Dashboard:
    """A validated dashboard; its name is the file name without ``.yaml``.

    :raises DashboardError: listing every problem with file, line and field
    """
    from osops.files import read_yaml

    broken = problems(path)
    if broken:
        raise DashboardError("; ".join(broken))
    data = read_yaml(path, path)
    name = os.path.splitext(os.path.basename(path))[0]
    return Dashboard.from_dict(name, data)
