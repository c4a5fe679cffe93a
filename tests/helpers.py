"""Helpers for tests: paths, the installed osops command, building test packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = ROOT / "contrib" / "logging" / "samples"
OSOPS = Path(sys.executable).parent / "osops"


def compiled_modules() -> tuple[str, ...]:
    """The osops_logging modules contrib/logging/setup.py has mypyc compile (its COMPILED)."""
    import ast

    tree = ast.parse((ROOT / "contrib" / "logging" / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "COMPILED"
        ]:
            return tuple(Path(path).stem for path in ast.literal_eval(node.value))
    raise AssertionError("contrib/logging/setup.py has no COMPILED list")


def run_osops(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``osops`` console script as Icinga or an operator would."""
    return subprocess.run(
        [str(OSOPS), *args],
        capture_output=True,
        text=True,
        input=input_text,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def install_target(source: Path, target: Path) -> Path:
    """Build a distribution from source and install it (no deps) into target."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def assert_unknown_when_hung(check: str, *args: str) -> None:
    """Against a server that accepts and never answers: UNKNOWN, one line, within timeout + 1 s.

    Timed in-process (interpreter start-up is not the check's doing, and a
    loaded CI machine makes it vary), then once more as Icinga runs it.
    """
    import time

    from osops.testing import run_check, silent_listener

    with silent_listener() as port:
        argv = [*(a.format(port=port) for a in args), "-t", "1"]
        started = time.monotonic()
        run = run_check(check, *argv)
        elapsed = time.monotonic() - started
        assert (run.exit_code, len(run.output.splitlines())) == (3, 1), run.output
        assert run.output.startswith(f"{check.upper()} UNKNOWN - ")
        assert elapsed < 2.0, f"{check} took {elapsed:.2f}s with -t 1"
        again = run_check(check, *argv, process=True)
        assert (again.exit_code, again.output) == (3, run.output)


def fake_distribution(
    site: Path, name: str, modules: dict[str, str], entry_points: str, version: str = "0.1"
) -> dict[str, str]:
    """A distribution as pip would leave it (modules and a dist-info), without pip: fast.

    :param modules: file path under ``site`` to its source
    :param entry_points: the ``entry_points.txt`` text
    :returns: the environment that puts ``site`` on the path
    """
    for path, source in modules.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(source)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    (info / "RECORD").write_text(
        "".join(f"{path},,\n" for path in modules) + f"{info.name}/METADATA,,\n"
    )
    return {"PYTHONPATH": str(site)}
