"""Build osops-logging: the parser's inner loop compiled by mypyc where it can be, else pure.

Metadata and entry points are in setup.cfg. The modules ``osops log parse``
spends its time in (the line grammars, the parse state machine and the fused
chain; no plugin class, whose docstring mypyc would drop) are plain, fully
typed Python that mypyc (part of mypy, a build requirement in pyproject.toml)
compiles to one C extension: 1.1x to 1.5x the pure-Python speed in
bench/log_parse.py. As PyYAML does with libyaml, a plain ``pip install``
tries: it compiles where a C compiler and the Python headers work, and builds
the pure-Python package, which behaves the same, where they do not (a probe
compile of a file including ``Python.h`` decides, in a second; a compile that
fails later falls back too). ``OSOPS_MYPYC=0`` builds pure Python without
trying; ``OSOPS_MYPYC=1`` demands the compiled build (``tools/setup``: CI must
not lose it silently) and fails the build without it. Which one was built is
printed here (``pip install -v`` shows it) and by ``osops plugin show filter
parse`` once installed.

mypyc must read the types of core ``osops`` (typed ``Any``, its subclass of
``osops.log.base.Fused`` compiles into a class that crashes): installed in the
build environment (``tools/setup`` builds with ``--no-build-isolation``), else
the copy of its source an sdist carries in ``osops-types/`` (written by
``sdist``; the versions are in lockstep), else the source tree's ``osops/``
beside ``contrib/`` (``pip install contrib/logging`` from a checkout). Without
them the build is pure Python.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

COMPILED = [
    "osops_logging/formats.py",
    "osops_logging/names.py",
    "osops_logging/heads.py",
    "osops_logging/contexts.py",
    "osops_logging/syslog.py",
    "osops_logging/complete.py",
    "osops_logging/lines.py",
    "osops_logging/fused.py",
]
HERE = Path(__file__).resolve().parent
PURE = "pure Python (slower, otherwise the same)"
#: Where an sdist carries core osops's source, read by mypy only (never installed).
TYPES = "osops-types"


def say(text: str) -> None:
    print(f"osops-logging: {text}", file=sys.stderr, flush=True)


def compiler_problem() -> str | None:
    """Why no C extension can be built here (None: a compiler and Python.h work).

    The same compiler setup as build_ext (CC, CFLAGS, sysconfig), on a file of
    one include, compiled and linked as an extension is.
    """
    import sysconfig

    try:
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler
    except ImportError:  # an older setuptools: the stdlib copy (Python < 3.12)
        from distutils.ccompiler import new_compiler  # type: ignore[no-redef]
        from distutils.sysconfig import customize_compiler  # type: ignore[no-redef]

    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory(prefix="osops-probe-") as tmp:
        source = Path(tmp, "probe.c")
        source.write_text(
            "#include <Python.h>\nint osops_probe(void) { return Py_IsInitialized(); }\n"
        )
        try:
            objects = compiler.compile(
                [str(source)], output_dir=tmp, include_dirs=[sysconfig.get_path("include")]
            )
            compiler.link_shared_object(objects, str(Path(tmp, "probe.so")))
        except Exception as exc:  # CompileError, LinkError, or the compiler missing
            command = " ".join(compiler.compiler_so[:1])  # type: ignore[attr-defined]
            return (
                f"no working C compiler with the Python headers "
                f"({type(exc).__name__} running {command})"
            )
    return None


def osops_types() -> Path | None:
    """The directory holding core osops's typed source for mypy, if not installed here."""
    for where in (HERE / TYPES, HERE.parent.parent):  # the sdist's copy, a checkout
        if (where / "osops" / "py.typed").is_file():
            return where
    return None


def extensions(mode: str) -> list[object]:
    """mypyc's extensions, or none (pure Python) where they cannot be made here."""
    if mode == "0":
        say(f"OSOPS_MYPYC=0: building the log parser as {PURE}")
        return []
    problem = compiler_problem()
    types = None if importlib.util.find_spec("osops") else osops_types()
    if problem is None and types is None and not importlib.util.find_spec("osops"):
        problem = "mypyc needs the types of core osops: not installed here, no source of it"
    if problem is None:
        if types is not None:
            os.environ["MYPYPATH"] = str(types)
        try:
            from mypyc.build import mypycify

            # One shared library for the three, named after the package it belongs to.
            # An empty configuration, not a checkout's (strict, for tools/test), which
            # would fail the build on warnings; imports outside osops (hyperscan,
            # orjson) need no types to compile.
            with tempfile.TemporaryDirectory(prefix="osops-mypy-") as tmp:
                config = Path(tmp, "mypy.ini")
                config.write_text("[mypy]\n")
                flags = ["--config-file", str(config), "--ignore-missing-imports"]
                modules = mypycify([*flags, *COMPILED], opt_level="3", group_name="osops_logging")
        except ImportError:
            problem = "mypyc (mypy) is not installed in the build environment"
        except SystemExit:  # mypyc exits on a type error, having printed it
            problem = "mypyc failed (its errors are above)"
        except Exception as exc:
            problem = f"mypyc failed ({type(exc).__name__}: {exc})"
        else:
            say("compiling the log parser with mypyc")
            return list(modules)
    if mode == "1":
        raise SystemExit(f"osops-logging: OSOPS_MYPYC=1 but {problem}")
    say(f"{problem}: building the log parser as {PURE}")
    return []


class optional_build_ext(build_ext):  # noqa: N801 - setuptools' command naming
    """build_ext that leaves out all of mypyc's extensions if any fails to build.

    All or none: the modules' shims import the shared library at run time,
    so a shim without it would break the import, not just slow it down.
    """

    def run(self) -> None:
        try:
            super().run()
        except (Exception, SystemExit) as exc:
            if os.environ.get("OSOPS_MYPYC") == "1":
                raise
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.unlink(path)
            self.extensions = []
            self.distribution.ext_modules = []
            why = f"{type(exc).__name__}: {str(exc)[:200]}"
            say(f"compiling failed ({why}): building the log parser as {PURE}")
        else:
            if self.extensions:
                say("built the log parser compiled by mypyc")


class pure_build_py(build_py):  # noqa: N801 - setuptools' command naming
    """build_py that, building pure Python, leaves out extensions an earlier build left.

    The build directory outlives a build: a compiled library left in it by
    the last one would otherwise go into a wheel that says it is pure.
    """

    def run(self) -> None:
        super().run()
        if not self.distribution.ext_modules:
            from importlib.machinery import EXTENSION_SUFFIXES

            root = Path(self.build_lib)
            for suffix in EXTENSION_SUFFIXES:
                for stale in [
                    *root.glob(f"osops_logging__mypyc*{suffix}"),
                    *root.glob(f"osops_logging/*{suffix}"),
                ]:
                    stale.unlink()


class sdist_with_types(sdist):  # noqa: N801 - setuptools' command naming
    """sdist that carries core osops's typed source, which mypyc needs to compile."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        source = osops_types()
        if source is None:
            raise SystemExit("osops-logging: sdist: the types of core osops are not here")
        shutil.copytree(
            source / "osops",
            Path(base_dir, TYPES, "osops"),
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )


# Only the commands that build code pay for the probe and mypyc's code generation:
# pip runs this file for metadata (egg_info, dist_info) and sdist too.
BUILDS = {"build", "build_ext", "bdist_wheel", "install", "develop", "editable_wheel"}
building = bool(BUILDS.intersection(sys.argv[1:]))

setup(
    ext_modules=extensions(os.environ.get("OSOPS_MYPYC", "auto")) if building else [],
    cmdclass={
        "build_ext": optional_build_ext,
        "build_py": pure_build_py,
        "sdist": sdist_with_types,
    },
)
