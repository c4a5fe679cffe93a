"""Files osops reads and writes: YAML with errors that name file and line, atomic writes."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from osops.exceptions import UsageError


def read_yaml(path: str, what: str) -> Any:
    """Load one YAML file.

    :param what: how errors name the file, e.g. "--config /etc/x.yaml"
    :raises UsageError: unreadable, or not YAML (with the line at fault)
    """
    import yaml  # only the commands that read YAML pay for importing it

    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{what}{where}: not valid YAML") from None


def write_atomically(path: str, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it.

    On any failure the temporary file is removed and ``path`` is untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".osops-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
