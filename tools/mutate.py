"""Mutation testing of the modules that carry osops's promises (run through tools/mutate).

Each module of tools/mutate.toml is mutated by mutmut 3 in a workspace of its
own, .work/mutate/<name>/, holding copies of the three packages laid flat
(osops, osops_logging, osops_monitoring: the Python source, never the compiled
parser), the tests and the samples. mutmut copies that again to mutants/, puts
it first on sys.path and runs the module's tests in-process against it, one
forked child per mutant, only the tests that reach the mutated function.
Before the mutants, mutmut runs the tests with every mutant switched to
"fail": if the tests imported the installed osops instead of the mutated
copy, nothing would fail and the run stops there.

Prints, per module, the mutants killed and survived, the score, and every
survivor that tools/mutate.toml does not name as equivalent (with its diff).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work" / "mutate"
PACKAGES = {
    "osops": ROOT / "osops",
    "osops_logging": ROOT / "contrib" / "logging" / "osops_logging",
    "osops_monitoring": ROOT / "contrib" / "monitoring" / "osops_monitoring",
}
# What the tests read besides themselves: helpers.ROOT is the workspace.
ALSO = ("contrib/logging/samples",)
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NO_TESTS = "could not find any test case for any mutant"


def load_config() -> dict[str, Any]:
    with open(ROOT / "tools" / "mutate.toml", "rb") as fh:
        modules: dict[str, Any] = tomllib.load(fh)["modules"]
    return modules


def pyproject(module: dict[str, Any]) -> str:
    """The workspace's pyproject.toml: the repository's pytest settings and mutmut's."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        pytest_ini = tomllib.load(fh)["tool"]["pytest"]["ini_options"]
    path = module["module"].replace(".", "/") + ".py"
    mutmut = {
        "source_paths": sorted(PACKAGES),
        "only_mutate": [path],
        "also_copy": list(ALSO),
        "pytest_add_cli_args_test_selection": list(module["tests"]),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-m", "not integration"],
        "use_git_change_detection": False,
    }
    return _toml({"tool": {"pytest": {"ini_options": pytest_ini}, "mutmut": mutmut}})


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for string lists, strings and booleans in nested tables."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(_toml(value, f"{prefix}{key}."))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    head = [f"[{prefix[:-1]}]"] if prefix and lines else []
    return "\n".join(head + lines + [""] + tables)


def workspace(name: str, module: dict[str, Any]) -> Path:
    """A fresh workspace for one module: the packages, tests and samples, copied."""
    where = WORK / name
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "build")
    for package, source in PACKAGES.items():
        shutil.copytree(source, where / package, ignore=ignore)
    shutil.copytree(ROOT / "tests", where / "tests", ignore=ignore)
    for extra in ALSO:
        shutil.copytree(ROOT / extra, where / extra, ignore=ignore)
    (where / "pyproject.toml").write_text(pyproject(module))
    return where


def mutant_globs(module: dict[str, Any]) -> list[str]:
    functions = module.get("functions") or ["*"]
    return [f"{module['module']}.{function}__mutmut_*" for function in functions]


def run_mutmut(where: Path, module: dict[str, Any], children: int, log: Path) -> int:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    command = [
        str(Path(sys.executable).parent / "mutmut"),
        "run",
        "--max-children",
        str(children),
        *mutant_globs(module),
    ]
    with open(log, "w") as out:
        return subprocess.run(
            command, cwd=where, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode


def results(where: Path, module: dict[str, Any]) -> dict[str, str]:
    """Mutant name to status, for the module's chosen functions."""
    from mutmut.stats import status_by_exit_code

    path = module["module"].replace(".", "/") + ".py"
    meta = json.loads((where / "mutants" / f"{path}.meta").read_text())
    globs = mutant_globs(module)
    return {
        name: status_by_exit_code[code]
        for name, code in meta["exit_code_by_key"].items()
        if any(fnmatch.fnmatchcase(name, glob) for glob in globs)
    }


def diff(where: Path, name: str, module: dict[str, Any]) -> str:
    """A survivor's diff, as ``mutmut show`` prints it (read in-process: much faster)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    path = module["module"].replace(".", "/") + ".py"
    previous = os.getcwd()
    os.chdir(where)
    try:
        text: str = get_diff_for_mutant(name, path=path)
    finally:
        os.chdir(previous)
    return "\n".join(text.splitlines()[2:]).strip()  # without the --- and +++ lines


def report(
    name: str, module: dict[str, Any], found: dict[str, str], where: Path
) -> dict[str, Any]:
    equivalent: dict[str, str] = module.get("equivalent", {})
    counts: dict[str, int] = {}
    for status in found.values():
        counts[status] = counts.get(status, 0) + 1
    killed = sum(n for status, n in counts.items() if status in KILLED)
    total = len(found)
    score = 100.0 * killed / total if total else 0.0
    survivors = sorted(k for k, status in found.items() if status not in KILLED)
    unexplained = [k for k in survivors if k not in equivalent]
    print(f"\n== {name} ({module['module']}): {killed} of {total} killed, {score:.1f}%")
    print("   " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())))
    for key in survivors:
        if key in equivalent:
            print(f"   equivalent  {key}: {equivalent[key]}")
    for key in unexplained:
        print(f"   SURVIVED    {key} ({found[key]})")
        for line in diff(where, key, module).splitlines():
            print(f"       {line}")
    stale = sorted(set(equivalent) - set(survivors))
    for key in stale:
        print(f"   stale equivalent entry (killed or gone): {key}")
    return {
        "module": module["module"],
        "mutants": total,
        "killed": killed,
        "score": round(score, 1),
        "survived": survivors,
        "unexplained": unexplained,
    }


def main() -> int:
    modules = load_config()
    parser = argparse.ArgumentParser(
        prog="tools/mutate", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "names", nargs="*", metavar="MODULE", help=f"of {', '.join(modules)} (default: all)"
    )
    parser.add_argument(
        "-j", "--max-children", type=int, default=1, help="mutants tested at once (default 1)"
    )
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    args = parser.parse_args()
    if args.list:
        for name, module in modules.items():
            print(f"{name:12} {module['module']:24} {' '.join(module['tests'])}")
        return 0
    unknown = [n for n in args.names if n not in modules]
    if unknown:
        parser.error(f"no module named {', '.join(unknown)} (modules: {', '.join(modules)})")
    summary, failed = [], []
    started = time.monotonic()
    for name in args.names or list(modules):
        module = modules[name]
        began = time.monotonic()
        where = workspace(name, module)
        log = where / "mutmut.log"
        print(f"-- {name}: mutating {module['module']} (log: {log.relative_to(ROOT)})", flush=True)
        code = run_mutmut(where, module, args.max_children, log)
        untested = NO_TESTS in log.read_text(errors="replace")
        if code != 0 and not untested:
            sys.stdout.write(log.read_text(errors="replace")[-3000:])
            print(f"mutate: mutmut failed on {name} (exit {code}); log: {log}")
            failed.append(name)
            continue
        found = results(where, module)
        if untested:  # mutmut stops before the mutants: none is reached by a test
            found = dict.fromkeys(found, "no tests")
        item = report(name, module, found, where)
        item["name"], item["seconds"] = name, round(time.monotonic() - began)
        summary.append(item)
    print(
        f"\n{'module':12} {'mutants':>8} {'killed':>7} {'score':>6}"
        f" {'unexplained':>12} {'time':>6}"
    )
    for item in summary:
        print(
            f"{item['name']:12} {item['mutants']:>8} {item['killed']:>7} {item['score']:>5}% "
            f"{len(item['unexplained']):>12} {item['seconds']:>5}s"
        )
    print(f"total {time.monotonic() - started:.0f}s")
    with contextlib.suppress(OSError):
        (WORK / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    if failed:
        print(f"mutate: mutmut failed on {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
