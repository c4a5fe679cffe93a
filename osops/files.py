"""Files osops reads and writes: bounded YAML with errors naming file and line, safe writes."""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Any

from osops.exceptions import UsageError

#: The most bytes of YAML osops reads from one file (suites, --config, dashboards).
YAML_MAX_BYTES = 1 << 20
#: The most values a YAML document may hold once its aliases are expanded: an
#: "alias bomb" (each list made of aliases to the one before) of a few hundred
#: bytes stands for billions of values, which anything walking the data visits.
YAML_MAX_VALUES = 100_000
#: The deepest nesting of collections, aliases expanded.
YAML_MAX_DEPTH = 64


class YamlError(UsageError):
    """A YAML file osops refuses, with the line at fault (0 when none) and the problem."""

    def __init__(self, what: str, problem: str, line: int = 0, detail: str = "") -> None:
        self.what = what
        self.problem = problem
        self.line = line
        #: The parser's own words, e.g. "expected ',' or ']', but got '<stream end>'".
        self.detail = detail
        super().__init__(f"{what}{f' line {line}' if line else ''}: {problem}")


def read_yaml(path: str, what: str) -> Any:
    """Load one YAML file, bounded in size, nesting and alias expansion.

    :param what: how errors name the file, e.g. "--config /etc/x.yaml"
    :raises YamlError: unreadable, too big, not YAML, a duplicate key, an
        alias bomb (with the line at fault where there is one)
    """
    return read_yaml_document(path, what)[1]


def read_yaml_document(path: str, what: str) -> tuple[Any, Any]:
    """A YAML file's node tree (for line numbers) and its data.

    :returns: (root node or None for an empty file, data)
    :raises YamlError: as :func:`read_yaml`
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(YAML_MAX_BYTES + 1)
    except OSError as exc:
        raise YamlError(what, exc.strerror or str(exc)) from None
    if len(raw) > YAML_MAX_BYTES:
        raise YamlError(what, f"larger than {YAML_MAX_BYTES >> 20} MiB, not read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(what, f"not UTF-8 text (byte {exc.start})") from None
    return load_yaml(text, what)


def load_yaml(text: str, what: str) -> tuple[Any, Any]:
    """Compose and construct one YAML document with PyYAML's safe loader, bounded.

    :returns: (root node or None, data)
    :raises YamlError: as :func:`read_yaml`
    """
    import yaml  # only the commands that read YAML pay for importing it

    loader = _bounded_loader(yaml)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise YamlError(what, exc.problem, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        detail = str(getattr(exc, "problem", None) or "syntax error")
        raise YamlError(what, "not valid YAML", line, detail) from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an int of 5000 digits
        raise YamlError(what, f"not valid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()
    return node, data


class _Refused(Exception):
    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


_LOADER: Any = None


def _bounded_loader(yaml: Any) -> Any:
    """PyYAML's SafeLoader that counts values and depth as it composes, aliases
    expanded, and refuses duplicate mapping keys (the first would be lost)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            # Per node: (values it stands for, nesting depth), aliases included.
            self._weight: dict[int, tuple[int, int]] = {}
            self._open = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._open += 1
            if self._open > YAML_MAX_DEPTH:
                raise _Refused(
                    f"nested deeper than {YAML_MAX_DEPTH} levels",
                    self.peek_event().start_mark.line + 1,
                )
            try:
                node = super().compose_node(parent, index)
            finally:
                self._open -= 1
            weight = self._weight.get(id(node))
            if weight is None:  # a new node; an alias returns one weighed already
                children: list[Any] = []
                if isinstance(node, yaml.SequenceNode):
                    children = node.value
                elif isinstance(node, yaml.MappingNode):
                    children = [item for pair in node.value for item in pair]
                sizes = [self._weight[id(child)] for child in children]
                weight = (
                    1 + sum(size for size, _ in sizes),
                    1 + max((depth for _, depth in sizes), default=0),
                )
                self._weight[id(node)] = weight
            if weight[0] > YAML_MAX_VALUES or weight[1] > YAML_MAX_DEPTH:
                raise _Refused(
                    f"aliases expand to more than {YAML_MAX_VALUES} values or "
                    f"{YAML_MAX_DEPTH} levels (an alias bomb?)",
                    node.start_mark.line + 1,
                )
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        duplicate = key in seen
                        seen.add(key)
                    except TypeError:  # an unhashable key: PyYAML reports it
                        continue
                    if duplicate:
                        raise _Refused(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            return super().construct_mapping(node, deep)

    _LOADER = Loader
    return Loader


def write_atomically(
    path: str, text: str, mode: int = 0o644, what: str | None = None, stream: bool = True
) -> None:
    """Write ``text`` to ``path``: a regular file is replaced atomically.

    The temporary file goes into the directory of the file the path resolves
    to, and is renamed over that file: a symlink stays a symlink and its target
    gets the text. A character device or FIFO (``/dev/stdout``, a pipe) is not
    replaced but written to, as a stream, unless ``stream`` is False. On any
    failure the temporary file is removed and the target is untouched.

    :param what: how errors name the file (default: the path)
    :param stream: write into devices and FIFOs; False refuses them
    :raises UsageError: naming the file: a directory, a socket, a device when
        ``stream`` is False, a directory that cannot be written, a full disk
    """
    what = what or path
    try:
        info: os.stat_result | None = os.stat(path)  # through symlinks
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stream and (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
            try:
                with open(path, "w") as fh:
                    fh.write(text)
            except OSError as exc:
                raise UsageError(f"{what}: {exc.strerror}") from None
            return
        raise UsageError(f"{what}: {_kind(info.st_mode)}, not a regular file")
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".osops-", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror} ({directory})") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UsageError(f"{what}: {exc.strerror}") from None
        raise


def check_writable(path: str, what: str | None = None) -> None:
    """Fail now, not after work was done, when :func:`write_atomically` with
    ``stream=False`` could not write ``path``: a temporary file is created
    beside its target and removed.

    :raises UsageError: as :func:`write_atomically`
    """
    what = what or path
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{what}: {_kind(info.st_mode)}, not a regular file")
    directory = os.path.dirname(os.path.realpath(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".osops-", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror} ({directory})") from None
    os.close(fd)
    os.unlink(temporary)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"
