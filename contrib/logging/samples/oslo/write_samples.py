"""Write genuine current-format OpenStack logs with oslo.log itself.

The bundled real logs are Kilo-era; this script makes oslo.log (the PyPI
package every OpenStack service logs through) write today's format: the
eight-token request context, "[instance: <uuid>]", DEBUG suffixes,
tracebacks whose every line repeats the prefix at ERROR, and wsgi access
lines. Run it to refresh the samples after an oslo.log upgrade:

    .venv/bin/python contrib/logging/samples/oslo/write_samples.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from oslo_config import cfg
from oslo_context import context
from oslo_log import log

HERE = Path(__file__).resolve().parent
GLOBAL = "req-0b8f36d4-4f5a-4e3c-9d0e-8c1f2a3b4c5d"
REQUEST = "req-6a9c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
INSTANCE = "4d2e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"


def configure(path: Path, debug: bool) -> None:
    conf = cfg.ConfigOpts()
    log.register_options(conf)
    conf([], project="osops-samples")
    conf.set_override("log_file", str(path))
    conf.set_override("debug", debug)
    conf.set_override("use_stderr", False)
    log.setup(conf, "osops-samples")


def main() -> None:
    path = HERE / "nova-compute.log"
    path.unlink(missing_ok=True)
    configure(path, debug=True)
    lg = log.getLogger("nova.compute.manager")
    wsgi = log.getLogger("nova.osapi_compute.wsgi.server")
    lg.info("Compute service starting")  # no request context: [-]
    ctx = context.RequestContext(
        user_id="6f4e3a2b1c0d4e5f8a9b0c1d2e3f4a5b",
        project_id="9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d",
        user_domain_id="default",
        project_domain_id="default",
        global_request_id=GLOBAL,
        request_id=REQUEST,
    )
    lg.info("Attempting claim on node cmp-3", context=ctx)
    lg.debug("Lock acquired by build_and_run_instance", context=ctx)
    lg.warning(
        "Instance spawn took longer than expected", context=ctx, instance={"uuid": INSTANCE}
    )
    try:
        raise ValueError("Volume 5c1d not found in cinder")
    except ValueError:
        lg.exception("Instance failed to spawn", context=ctx, instance={"uuid": INSTANCE})
    lg.info("transport_url = rabbit://nova:Secr3t-Rabbit@ctl-1:5672/", context=ctx)
    wsgi.info(
        '10.0.0.9 "GET /v2.1/servers/detail HTTP/1.1" status: 200 len: 1893 '
        "microversion: 2.1 time: 0.2477829",
        context=ctx,
    )
    ctx2 = context.RequestContext(request_id="req-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")
    lg.error("Periodic task failed", context=ctx2)
    logging.shutdown()
    sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
