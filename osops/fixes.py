"""What a plugin that fails to load most likely needs: the fix, named for the operator."""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from osops.plugins import EntryPoint


def likely_fix(exc: BaseException, entry: EntryPoint) -> str:
    """What an operator most likely has to do about a plugin that failed to load."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        missing = exc.name.split(".")[0]
        extra = _extra_providing(entry.distribution, missing)
        if extra:
            return f"pip install '{entry.distribution}[{extra}]'"
        if entry.module == exc.name or entry.module.startswith(exc.name + "."):
            return _wrong_module(entry, exc.name)
        return f"install the package that provides module {missing!r} next to osops"
    if isinstance(exc, AttributeError):
        return f"{entry.distribution} registers {entry.value!r}, which does not exist"
    return f"report it to the maintainers of {entry.distribution}"


def _extra_providing(distribution: str, module: str) -> str | None:
    # Only reached on the failure path, so the slow metadata import is fine here.
    import importlib.metadata

    def squash(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in requirements:
        name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
        marker = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", requirement)
        if marker and squash(name) in (squash(module), squash(module) + "py"):
            return marker.group(1)
    return None


def _wrong_module(entry: EntryPoint, missing: str) -> str:
    """The fix when the module an entry point names cannot be found.

    Either the entry point's path is wrong (a typo, a renamed module: the
    module is not among the distribution's files) or the installation lost
    the module (it is listed but gone).
    """
    import difflib

    shipped = _modules_of(entry.distribution)
    if missing in shipped:
        return f"reinstall {entry.distribution}: its module {missing!r} is missing"
    if not shipped:  # nothing known of its files: either may be true
        return (
            f"reinstall {entry.distribution}: its module {missing!r} is missing "
            f"(or its entry point {entry.value!r} names the wrong module)"
        )
    close = difflib.get_close_matches(entry.module, sorted(shipped), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    has = f"; it has {', '.join(sorted(shipped)[:5])}" if shipped and not close else ""
    return (
        f"fix the entry point {entry.name!r} = {entry.value!r} in {entry.distribution}'s "
        f"packaging: there is no module {missing!r}{hint}{has}"
    )


def _modules_of(distribution: str) -> set[str]:
    """The modules a distribution installed, from its RECORD (none known for editable ones)."""
    import importlib.metadata

    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return set()
    modules = set()
    for path in files:
        parts = path.parts
        if path.suffix != ".py" or any(
            p.endswith(".dist-info") or p == "__pycache__" for p in parts
        ):
            continue
        names = [*parts[:-1], path.stem] if path.stem != "__init__" else list(parts[:-1])
        if names and all(name.isidentifier() for name in names):
            modules.add(".".join(names))
    if not modules:  # editable: the package is found through a finder, not files
        modules |= _submodules(distribution)
    return modules


def _submodules(distribution: str) -> set[str]:
    """Modules of an editable install's top-level packages (``top_level.txt``)."""
    import importlib.metadata
    import importlib.util
    import pkgutil

    try:
        top = importlib.metadata.distribution(distribution).read_text("top_level.txt") or ""
    except importlib.metadata.PackageNotFoundError:
        return set()
    found = set()
    for package in top.split():
        spec = importlib.util.find_spec(package)
        if spec is None:
            continue
        found.add(package)
        for info in pkgutil.walk_packages(spec.submodule_search_locations or [], package + "."):
            found.add(info.name)
    return found
