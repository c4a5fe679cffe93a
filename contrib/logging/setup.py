"""Build osops-logging; with ``OSOPS_MYPYC=1``, the parser's inner loop is compiled.

Metadata and entry points are in setup.cfg. The modules ``osops log parse``
spends its time in (the line grammars, the parse state machine and the fused
chain; no plugin class, whose docstring mypyc would drop) are
plain, fully typed Python; mypyc (part of mypy) can compile them to a C
extension, which runs about 28% fewer instructions per line (1.1x to 1.5x
the pure-Python speed in bench/log_parse.py). Compiling needs mypy, a C compiler and the Python
headers, so it is asked for, not assumed: ``tools/setup`` asks for it, and a
plain ``pip install`` builds the pure-Python package, which behaves the same.
The build reads the types of core ``osops``, which must be installed first
(``pip install --no-build-isolation``, or ``pip wheel`` in that environment).
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = ["osops_logging/formats.py", "osops_logging/lines.py", "osops_logging/fused.py"]

ext_modules = []
if os.environ.get("OSOPS_MYPYC") == "1":
    from mypyc.build import mypycify

    # One shared library for the three, named after the package it belongs to.
    ext_modules = mypycify(COMPILED, opt_level="3", group_name="osops_logging")

setup(ext_modules=ext_modules)
