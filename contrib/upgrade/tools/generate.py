#!/usr/bin/env python3
"""Generate osops-upgrade's option data from the real services, installed from PyPI.

For each service release: download its sdist (the series is read from the
upper-constraints URL in its tox.ini, never assumed), install the release into
a throwaway venv with the dependencies of its lock file (tools/locks/; made on
the first run from what PyPI held when the series was released), run
oslo-config-generator --format yaml over the namespaces the service's own
generator configuration lists, and derive in the venv what the options do not
say (tools/extract.py): scheduler filters and weighers, driver names, policy
names. The result, without help text, goes to
osops_upgrade/data/SERVICE/SERIES.json.gz: sorted keys, no timestamps, gzip
with mtime 0, so a second run writes the same bytes.

    python3 contrib/upgrade/tools/generate.py                 # every release
    python3 contrib/upgrade/tools/generate.py --service keystone --series 2026.2 \
        --venv .work/keystone-venv --output /tmp/out        # reuse a venv

Standard library only: it runs under any Python 3.11 (the services' own).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sdists import DATA, HERE, cached, gzip_json, member, read_member, series_of

LOCKS = HERE / "locks"
PIP = "pip==26.3"  # --uploaded-prior-to, for the first resolution of a lock

#: The distribution on PyPI, its main configuration file, and the generator
#: configuration of that file (path in the sdist, under the top directory).
SERVICES = {
    "cinder": ("cinder", "cinder.conf", "tools/config/cinder-config-generator.conf"),
    "glance": ("glance", "glance-api.conf", "etc/oslo-config-generator/glance-api.conf"),
    "keystone": ("keystone", "keystone.conf", "config-generator/keystone.conf"),
    "neutron": ("neutron", "neutron.conf", "etc/oslo-config-generator/neutron.conf"),
    "nova": ("nova", "nova.conf", "etc/nova/nova-config-generator.conf"),
    "placement": ("openstack-placement", "placement.conf", "etc/placement/config-generator.conf"),
}

#: The newest release of each series from 2025.1 (the SLURP before last) on,
#: as published on PyPI on 2026-11-27. The series is verified from each sdist.
RELEASES = {
    "cinder": {"2025.1": "26.3.0", "2025.2": "27.0.0", "2026.1": "28.0.0", "2026.2": "29.0.0"},
    "glance": {"2025.1": "30.2.0", "2025.2": "31.1.0", "2026.1": "32.0.0", "2026.2": "33.0.0"},
    "keystone": {"2025.1": "27.1.0", "2025.2": "28.1.0", "2026.1": "29.1.0", "2026.2": "30.0.0"},
    "neutron": {"2025.1": "26.0.6", "2025.2": "27.0.4", "2026.1": "28.0.2", "2026.2": "29.0.0"},
    "nova": {"2025.1": "31.3.1", "2025.2": "32.2.1", "2026.1": "33.0.2", "2026.2": "34.0.0"},
    "placement": {"2025.1": "13.0.1", "2025.2": "14.0.0", "2026.1": "15.0.0", "2026.2": "16.0.0"},
}

#: Extras without which oslo-config-generator cannot import the service's option
#: modules (cinder 2026.2 moved its backup drivers' libraries into extras).
EXTRAS = {"cinder": "[gcs,s3,swift]"}


def log(message: str) -> None:
    print(f"generate: {message}", file=sys.stderr, flush=True)


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(argv[:4])} ... exited {proc.returncode}:\n{tail}")
    return proc  # type: ignore[no-any-return]


def pip(
    python: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args], env=env)


def download(tool: Path, requirement: str, binary: str, where: Path) -> None:
    """The requirement alone, downloaded: ``--no-binary`` an sdist, ``--only-binary`` a wheel."""
    pip(tool, "download", "--no-deps", binary, ":all:", requirement, "-d", str(where))


def sdist(dist: str, version: str, cache: Path, tool: Path) -> Path:
    """The release's sdist, downloaded once into cache."""
    found = cached(cache, dist, version)
    if found is None:
        download(tool, f"{dist}=={version}", "--no-binary", cache)
        found = cached(cache, dist, version)
    if found is None:
        raise RuntimeError(f"{dist}=={version}: no sdist downloaded")
    return found


def lock_path(service: str, series: str) -> Path:
    return LOCKS / f"{service}-{series}.txt"


def make_venv(where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    run(["/usr/bin/python3", "-m", "venv", str(where)])
    return where / "bin" / "python"


def install(service: str, series: str, version: str, venv: Path, cache: Path, tool: Path) -> None:
    """Install the release into a new venv: exactly its lock, or resolve and write the lock."""
    dist = SERVICES[service][0]
    python = make_venv(venv)
    lock = lock_path(service, series)
    if lock.exists():
        pip(python, "install", "--no-deps", "-r", str(lock))
        return
    # Resolve as the series' upper-constraints did: what PyPI held when its
    # first release (X.0.0) was built; the release itself from its own file.
    major = version.split(".")[0]
    first = sdist(dist, f"{major}.0.0", cache, tool)
    built = datetime.datetime.fromtimestamp(member(first, "PKG-INFO").mtime, datetime.UTC)
    cutoff = (built + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pip(python, "install", PIP)
    wheels = cache / "wheels"
    download(tool, f"{dist}=={version}", "--only-binary", wheels)
    (wheel,) = [
        p
        for p in wheels.glob("*.whl")
        if p.name.lower().startswith(f"{dist.replace('-', '_')}-{version}-".lower())
    ]
    # The index alone: local wheel directories and extra file indexes carry no
    # upload times, and pip then takes their newest release whatever the cutoff.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    # The sdist's requirements.txt too: neutron 29.0.0's wheel lacks pyroute2,
    # which its requirements.txt declares (with a marker the wheel lost).
    requirements = cache / f"{service}-{version}-requirements.txt"
    requirements.write_text(read_member(sdist(dist, version, cache, tool), "requirements.txt"))
    pip(
        python,
        "install",
        "--uploaded-prior-to",
        cutoff,
        f"{wheel}{EXTRAS.get(service, '')}",
        "-r",
        str(requirements),
        env=env,
    )
    frozen = run(
        [
            str(python),
            "-m",
            "pip",
            "freeze",
            "--all",
            "--exclude",
            "pip",
            "--exclude",
            "setuptools",
        ]
    ).stdout
    lines = sorted(
        (line for line in frozen.splitlines() if line and " @ " not in line),
        key=str.lower,
    )
    lock.write_text(
        f"# {dist} {version} ({series}): dependencies as on PyPI at {cutoff}, "
        f"a day after {major}.0.0 was built\n{dist}=={version}\n" + "\n".join(lines) + "\n"
    )


def generate(service: str, series: str, version: str, venv: Path, archive: Path) -> bytes:
    """Run the generator and the extractor in the venv; the gzip'd JSON document."""
    python = venv / "bin" / "python"
    installed = run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m; print(m.version({SERVICES[service][0]!r}))",
        ]
    ).stdout.strip()
    if installed != version:
        raise RuntimeError(f"{venv}: {SERVICES[service][0]} {installed} installed, not {version}")
    with tempfile.TemporaryDirectory(prefix="osops-upgrade-") as tmp:
        conf = Path(tmp) / "generator.conf"
        namespaces = [
            line.split("=", 1)[1].strip()
            for line in read_member(archive, SERVICES[service][2]).splitlines()
            if line.replace(" ", "").startswith("namespace=")
        ]
        conf.write_text("[DEFAULT]\n" + "".join(f"namespace = {n}\n" for n in namespaces))
        out = Path(tmp) / "options.yaml"
        generator = venv / "bin" / "oslo-config-generator"
        # A fixed host name and state path: defaults derived from the machine
        # would make the data differ from one machine to the next.
        env = {**os.environ, "HOME": tmp, "LC_ALL": "C.UTF-8"}
        run(
            [
                str(generator),
                "--config-file",
                str(conf),
                "--format",
                "yaml",
                "--output-file",
                str(out),
            ],
            env=env,
            cwd=tmp,
        )
        extracted = run(
            [str(python), str(HERE / "extract.py"), str(out), service, str(venv)],
            env=env,
            cwd=tmp,
        ).stdout
    document = json.loads(extracted)
    document.update(
        {
            "service": service,
            "series": series,
            "version": version,
            "distribution": SERVICES[service][0],
            "file": SERVICES[service][1],
            "namespaces": namespaces,
        }
    )
    return gzip_json(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", action="append", choices=sorted(SERVICES))
    parser.add_argument("--series", action="append")
    parser.add_argument("--venv", type=Path, help="reuse this venv (one release only)")
    parser.add_argument("--output", type=Path, default=DATA, help=f"default {DATA}")
    parser.add_argument(
        "--work", type=Path, default=Path(".work/upgrade"), help="venvs, downloads"
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="report a release that fails, go on"
    )
    args = parser.parse_args(argv)
    args.work = args.work.absolute()
    args.venv = args.venv.absolute() if args.venv else None
    services = args.service or sorted(SERVICES)
    wanted = [
        (s, r, v)
        for s in services
        for r, v in sorted(RELEASES[s].items())
        if not args.series or r in args.series
    ]
    if args.venv and len(wanted) != 1:
        parser.error("--venv takes one --service and one --series")
    cache = args.work / "downloads"
    cache.mkdir(parents=True, exist_ok=True)
    tool = Path(sys.executable)  # any pip downloads files; resolution runs in the new venv
    failed = []
    for service, series, version in wanted:
        started = time.monotonic()
        try:
            archive = sdist(SERVICES[service][0], version, cache, tool)
            found = series_of(archive)
            if found != series:
                raise RuntimeError(f"{service} {version} is {found}, not {series}")
            venv = args.venv or args.work / "venvs" / f"{service}-{series}"
            if not args.venv:
                install(service, series, version, venv, cache, tool)
            data = generate(service, series, version, venv, archive)
            if not args.venv:
                shutil.rmtree(venv)
        except RuntimeError as exc:
            if not args.keep_going:
                raise
            failed.append(f"{service} {series} ({version}): {exc}")
            log(f"FAILED {failed[-1]}")
            continue
        target = args.output / service / f"{series}.json.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        seconds = time.monotonic() - started
        log(f"{service} {series} ({version}): {len(data)} bytes in {seconds:.0f}s")
    for line in failed:
        log(f"not generated: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
