"""The parser compiled by mypyc (contrib/logging/setup.py) writes what its Python source does.

tools/setup compiles osops_logging's parser (the modules of setup.py's COMPILED) unless
``OSOPS_MYPYC=0``, and every other test then runs the compiled modules. Here
the pure-Python source, run from contrib/logging in another interpreter, must
give the same bytes on every bundled sample, fused over small pieces and
record by record.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from helpers import ROOT, compiled_modules
from test_fused import SAMPLE_FILES

MODULES = compiled_modules()

# Both ways of writing JSON lines, for every file named on the command line.
_SERIALIZE = """
import sys
from osops.log import parallel, pipeline

def serialize(paths):
    chain = pipeline.build_chain(None)
    fused = chain.fused()
    for path in paths:
        for piece in parallel.pieces(fused, path, 2048):
            yield b"".join(fused.serialize(path, *piece))
        yield from parallel.record_by_record(chain, path)
"""


def _compiled(name: str) -> bool:
    module = importlib.import_module(f"osops_logging.{name}")
    return str(module.__file__).endswith(tuple(EXTENSION_SUFFIXES))


def test_parser_modules_are_compiled_unless_asked_not_to() -> None:
    # Compiled or not, osops behaves the same (below); losing the compiled build
    # would only be slower, so say it here.
    wanted = os.environ.get("OSOPS_MYPYC", "1") == "1"
    assert {name: _compiled(name) for name in MODULES} == dict.fromkeys(MODULES, wanted)


def test_the_installed_build_holds_only_its_package() -> None:
    # Compiled, the package's modules share one library, named after it.
    top = {path.parts[0] for path in importlib.metadata.files("osops-logging") or ()}
    top = {name for name in top if not name.endswith(".dist-info")}
    runtime = {f"osops_logging__mypyc{suffix}" for suffix in EXTENSION_SUFFIXES}
    assert top - runtime == {"osops_logging"}
    assert bool(top & runtime) == (os.environ.get("OSOPS_MYPYC", "1") == "1")


def test_compiled_and_pure_python_parsers_write_the_same_bytes() -> None:
    paths = [str(path) for path in SAMPLE_FILES]
    script = (
        _SERIALIZE
        + "import osops_logging.lines as lines\n"
        + "assert lines.__file__.endswith('.py'), lines.__file__\n"
        + "sys.stdout.buffer.write(b''.join(serialize(sys.argv[1:])))\n"
    )
    pure = subprocess.run(
        [sys.executable, "-c", script, *paths],
        env={**os.environ, "PYTHONPATH": str(ROOT / "contrib" / "logging")},
        capture_output=True,
        check=True,
        timeout=300,
    ).stdout
    # The same code here runs the installed build, not the source tree's.
    assert not Path(str(sys.modules["osops_logging.fused"].__file__)).is_relative_to(
        ROOT / "contrib"
    )
    namespace: dict[str, object] = {}
    exec(_SERIALIZE, namespace)
    here = b"".join(namespace["serialize"](paths))  # type: ignore[operator]
    assert pure.count(b"\n") > 10_000
    assert here == pure
