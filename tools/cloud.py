"""tools/cloud: the test cloud started by hand (see tools/cloud)."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import keystone, rabbitmq  # noqa: E402
from support.cloud import Cloud  # noqa: E402
from support.cloud.seed import seed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/cloud", description=__doc__)
    parser.add_argument("--dir", type=Path, default=ROOT / ".work" / "cloud")
    parser.add_argument(
        "--exit", action="store_true", help="stop as soon as the cloud is up (a timing run)"
    )
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    for part in ("keystone", "rabbitmq", "services"):
        (args.dir / part).mkdir(parents=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        keystone.running(args.dir / "keystone") as ks,
        rabbitmq.running(args.dir / "rabbitmq") as node,
    ):
        cloud = Cloud(args.dir / "services", ks.url, ks.password, node.api, node.amqp)
        cloud.start()
        try:
            seed(cloud.api)
            clouds = ks.clouds_yaml(args.dir / "clouds.yaml")
            for step, seconds in cloud.timings.items():
                print(f"{step:>22}: {seconds:5.1f} s")
            print(f"\nexport OS_CLIENT_CONFIG_FILE={clouds} OS_CLOUD=test")
            for name, port in cloud.settings.ports.items():
                print(f"{name:>10}: http://127.0.0.1:{port}")
            print(f"{'keystone':>10}: {ks.url}/v3\n{'rabbitmq':>10}: {node.api}")
            print(f"logs under {cloud.settings.work}")
            if not args.exit:
                print("Ctrl-C stops the cloud.", flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    stop.wait()
        finally:
            cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
