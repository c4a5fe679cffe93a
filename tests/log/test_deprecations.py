"""Runtime deprecations in ``osops log stats``: from real oslo.log output that oslo.config warned into."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, run_osops

# A service in miniature: oslo.config options with a deprecated name, a deprecated
# group and one deprecated for removal; oslo.log set up from the same files, as
# every OpenStack service does; the options read twice (warned once each), and
# a DeprecationWarning from code, captured into the log as services do.
_SERVICE = """
import logging as std_logging, sys, warnings
from oslo_config import cfg
from oslo_log import log as logging

CONF = cfg.ConfigOpts()
CONF.register_opts([
    cfg.IntOpt("workers", deprecated_name="api_workers", deprecated_group="DEFAULT"),
    cfg.StrOpt("auth_strategy", deprecated_for_removal=True, deprecated_since="2025.1",
               deprecated_reason="Only keystone is supported."),
], group="api")
logging.register_options(CONF)
CONF(["--config-file", sys.argv[1]], project="nova")
logging.setup(CONF, "nova")
std_logging.captureWarnings(True)
for _ in range(2):
    CONF.api.workers, CONF.api.auth_strategy
warnings.simplefilter("always", DeprecationWarning)
warnings.warn("the frobnicate() call is deprecated, use frob()", DeprecationWarning)
logging.getLogger("nova.api").warning("API started with %d workers", CONF.api.workers)
"""


def _service_log(where: Path, host: str) -> Path:
    log = where / f"{host}.nova-api.log"
    conf = where / f"{host}.conf"
    conf.write_text(
        f"[DEFAULT]\nlog_file = {log}\napi_workers = 4\n[api]\nauth_strategy = keystone\n"
    )
    subprocess.run(
        [sys.executable, "-c", _SERVICE, str(conf)], check=True, capture_output=True, timeout=60
    )
    return log


def test_stats_list_each_deprecation_warning_once_per_host(tmp_path: Path) -> None:
    logs = [_service_log(tmp_path, host) for host in ("ctl1", "ctl2")]
    text = logs[0].read_text()
    assert 'Option "api_workers" from group "DEFAULT" is deprecated' in text  # oslo.config's own
    proc = run_osops("log", "stats", "--format", "json", *map(str, logs))
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)["deprecations"]
    rows = {
        (d["host"], d["service"], d["kind"], d["group"], d["option"], d["count"]) for d in found
    }
    for host in ("ctl1", "ctl2"):
        assert (host, "nova-api", "option", "DEFAULT", "api_workers", 1) in rows
        assert (host, "nova-api", "option", "api", "auth_strategy", 1) in rows
        assert (host, "nova-api", "python", None, None, 1) in rows
    assert len(found) == 6, found
    messages = {d["message"] for d in found}
    assert (
        'Deprecated: Option "api_workers" from group "DEFAULT" is deprecated. '
        'Use option "workers" from group "api".'
    ) in messages
    assert any(
        m.endswith("DeprecationWarning: the frobnicate() call is deprecated, use frob()")
        for m in messages
    ), messages
    assert not any("workers" in m and "started" in m for m in messages)  # not a deprecation


def test_stats_text_shows_the_deprecations(tmp_path: Path) -> None:
    log = _service_log(tmp_path, "ctl1")
    proc = run_osops("log", "stats", str(log))
    assert proc.returncode == 0, proc.stderr
    section = proc.stdout.split("deprecation warnings logged (3 distinct):\n", 1)[1]
    assert '      1  ctl1 nova-api [option] Deprecated: Option "api_workers" from group' in section


# oslo.policy (in the test Keystone's venv) warns when a policy file overrides a
# rule under its deprecated name; services capture the warning into their log.
_POLICY = """
import logging as std_logging, sys
from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy

CONF = cfg.ConfigOpts()
logging.register_options(CONF)
CONF(["--config-file", sys.argv[1]], project="nova")
logging.setup(CONF, "nova")
std_logging.captureWarnings(True)
old = policy.DeprecatedRule(
    "os_compute_api:servers:show", "rule:admin_or_owner",
    deprecated_reason="Scoped to projects.", deprecated_since="2025.1",
)
enforcer = policy.Enforcer(CONF, policy_file=sys.argv[2])
enforcer.register_defaults([
    policy.RuleDefault("admin_or_owner", "role:admin or project_id:%(project_id)s"),
    policy.DocumentedRuleDefault(
        "compute:servers:show", "role:reader", "Show a server",
        [{"path": "/servers/{id}", "method": "GET"}], deprecated_rule=old,
    ),
])
enforcer.load_rules()
"""


@pytest.mark.integration
def test_stats_list_oslo_policy_deprecations(tmp_path: Path) -> None:
    log = tmp_path / "ctl1.nova-api.log"
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[DEFAULT]\nlog_file = {log}\n")
    rules = tmp_path / "policy.yaml"
    rules.write_text('"os_compute_api:servers:show": "role:member"\n')
    python = ROOT / ".work" / "keystone-venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-c", _POLICY, str(conf), str(rules)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    proc = run_osops("log", "stats", "--format", "json", str(log))
    assert proc.returncode == 0, proc.stderr
    (found,) = json.loads(proc.stdout)["deprecations"]
    assert (found["host"], found["service"], found["kind"], found["count"]) == (
        "ctl1", "nova-api", "policy", 1,
    )  # fmt: skip
    assert (
        'Policy "os_compute_api:servers:show":"rule:admin_or_owner" was deprecated in 2025.1 in favor of "compute:servers:show":"role:reader".'
        in found["message"]
    )
