"""``osops plugin new``: a third-party package with one plugin, its tests and packaging.

The files are ``string.Template`` texts in ``templates/``: ``KIND.py`` and
``test_KIND.py`` per kind, and the package's own.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from osops import __version__
from osops.conformance import NAME
from osops.exceptions import UsageError
from osops.kinds import KINDS

#: Where the templates are.
TEMPLATES = Path(__file__).parent / "templates"
_DIST = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def class_name(name: str) -> str:
    """``ntp_offset`` as ``NtpOffset``."""
    return "".join(part.capitalize() for part in name.split("_"))


def pin() -> str:
    """The osops requirement a plugin package states: this minor release line."""
    major, minor = __version__.split(".")[:2]
    return f"osops>={major}.{minor},<{major}.{int(minor) + 1}"


def create(kind_name: str, name: str, dist: str | None, directory: Path | None) -> list[Path]:
    """Write a package holding one plugin, or add the plugin to a package written before.

    :param dist: distribution name (``osops-`` and the plugin name by default)
    :param directory: where the package is (``./DIST`` by default)
    :returns: the files written, in order
    :raises UsageError: a bad name, or files that would be overwritten
    """
    if kind_name not in KINDS:
        raise UsageError(f"no plugin kind {kind_name!r} (known: {', '.join(sorted(KINDS))})")
    if kind_name == "command" and "_" not in name:
        raise UsageError(f"command {name!r}: name it OBJECT_ACTION, e.g. ntp_status")
    if not NAME.match(name):
        raise UsageError(f"{name!r} is not short snake_case, e.g. ntp_offset")
    dist = dist or "osops-" + name.replace("_", "-")
    if not _DIST.match(dist):
        raise UsageError(f"distribution {dist!r} is not lower-case words joined by '-'")
    package = dist.replace("-", "_")
    root = directory if directory is not None else Path(dist)
    fields = {
        "kind": kind_name,
        "name": name,
        "cls": class_name(name),
        "dist": dist,
        "package": package,
        "namespace": KINDS[kind_name].namespace,
        "pin": pin(),
        "words": name.replace("_", " "),
        "command": name.replace("_", " "),
        "upper": name.upper(),
    }
    plugin_file = root / package / f"{name}.py"
    test_file = root / "tests" / f"test_{name}.py"
    for path in (plugin_file, test_file):
        if path.exists():
            raise UsageError(f"{path} exists: choose another name")
    written = []
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        _register(pyproject, fields)
    else:
        if root.exists() and any(root.iterdir()):
            raise UsageError(f"{root} exists and is no package written by 'osops plugin new'")
        written += _write(root / "pyproject.toml", "pyproject.toml", fields)
        written += _write(root / "README.md", "README.md", fields)
        written += _write(root / package / "__init__.py", "__init__.py", fields)
    written += _write(plugin_file, f"{kind_name}.py", fields)
    written += _write(test_file, f"test_{kind_name}.py", fields)
    return written


def template(name: str) -> str:
    """One template's text (``templates/NAME.tmpl``)."""
    return (TEMPLATES / f"{name}.tmpl").read_text()


def _write(path: Path, name: str, fields: dict[str, str]) -> list[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(string.Template(template(name)).substitute(fields))
    return [path]


def _register(pyproject: Path, fields: dict[str, str]) -> None:
    """Add one entry point to a pyproject.toml this module wrote (its tables come last)."""
    text = pyproject.read_text()
    if f'name = "{fields["dist"]}"' not in text:
        raise UsageError(f"{pyproject} is not the package of {fields['dist']}: give --dist")
    header = f'[project.entry-points."{fields["namespace"]}"]\n'
    line = f'{fields["name"]} = "{fields["package"]}.{fields["name"]}:{fields["cls"]}"\n'
    if header in text:
        text = text.replace(header, header + line, 1)
    else:
        text = text.rstrip("\n") + "\n\n" + header + line
    pyproject.write_text(text)
