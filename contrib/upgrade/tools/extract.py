"""Run inside a service's venv: options (help stripped) and the values that exist.

    python extract.py OPTIONS.yaml SERVICE VENV > document.json

OPTIONS.yaml is oslo-config-generator's YAML output. Besides the options, it
derives from the installed code what the options' choices do not say: the
scheduler filters and weighers, driver names registered as entry points, and
the service's policy names. Machine-dependent defaults (this venv's path, the
host name) are replaced by placeholders, so the output is the same anywhere.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import socket
import sys

import yaml

#: (group, option) -> entry point group whose names are the option's values.
ENTRY_POINT_VALUES = {
    "cinder": {
        ("DEFAULT", "scheduler_default_filters"): "cinder.scheduler.filters",
        ("DEFAULT", "scheduler_default_weighers"): "cinder.scheduler.weights",
    },
    "keystone": {
        ("identity", "driver"): "keystone.identity",
        ("assignment", "driver"): "keystone.assignment",
        ("resource", "driver"): "keystone.resource",
        ("token", "provider"): "keystone.token.provider",
    },
    "neutron": {
        ("DEFAULT", "core_plugin"): "neutron.core_plugins",
        ("DEFAULT", "service_plugins"): "neutron.service_plugins",
    },
}

_TYPES = {
    "string value": "string",
    "integer value": "integer",
    "boolean value": "boolean",
    "floating point value": "float",
    "list value": "list",
    "multi valued": "multi",
    "port value": "port",
    "dict value": "dict",
    "uri value": "uri",
    "ip address value": "ip",
    "host address value": "host",
    "host domain value": "hostdomain",
}


def _placeholders(venv: str) -> dict[str, str]:
    names = {venv: "<venv>"}
    for host in {socket.gethostname(), socket.getfqdn()}:
        if host and host != "localhost":  # a default may well be "localhost" itself
            names[host] = "<hostname>"
    return names


def _clean(value: object, names: dict[str, str]) -> object:
    if isinstance(value, str):
        for text, placeholder in names.items():
            if text in value and (placeholder != "<hostname>" or value == text):
                value = value.replace(text, placeholder)
        return value
    if isinstance(value, list):
        return [_clean(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v, names) for k, v in value.items()}
    return value


def option(opt: dict, names: dict[str, str]) -> dict:
    """One option without its help, with only the fields that say something."""
    kind = str(opt.get("type") or "").lower()
    found: dict = {"type": _TYPES.get(kind, kind.removesuffix(" value"))}
    default = opt.get("sample_default")
    found["default"] = _clean(opt.get("default") if default is None else default, names)
    if opt.get("choices"):
        found["choices"] = [c[0] if isinstance(c, list) else c for c in opt["choices"]]
    renames = [
        [d.get("group") or None, (d.get("name") or "").replace("-", "_") or None]
        for d in opt.get("deprecated_opts") or ()
    ]
    if renames:
        found["deprecated_opts"] = sorted(renames, key=lambda r: (r[0] or "", r[1] or ""))
    if opt.get("deprecated_for_removal"):
        found["deprecated_for_removal"] = True
        for key in ("deprecated_since", "deprecated_reason"):
            if opt.get(key):
                found[key] = " ".join(str(opt[key]).split())
    for key in ("min", "max"):
        if opt.get(key) is not None:
            found[key] = opt[key]
    for key in ("secret", "required"):
        if opt.get(key):
            found[key] = True
    return found


def options(generated: dict, names: dict[str, str]) -> tuple[dict, dict]:
    groups: dict = {}
    dynamic: dict = {}
    for group, body in (generated.get("options") or {}).items():
        found = groups.setdefault(group, {})
        for opt in body.get("opts") or ():
            found[opt["dest"]] = option(opt, names)
        for driver, opts in sorted((body.get("driver_opts") or {}).items()):
            for opt in opts:
                item = option(opt, names)
                item["driver"] = driver
                found.setdefault(opt["dest"], item)
        if body.get("dynamic_group_owner"):
            dynamic[group] = body["dynamic_group_owner"]
    plugins = auth_plugin_options()
    for found in groups.values():
        # A group with auth_type takes the options of whichever keystoneauth plugin
        # it names (keystonemiddleware's list_opts shows none of them).
        if "auth_type" in found:
            for dest, item in plugins.items():
                found.setdefault(dest, item)
    return groups, dynamic


def auth_plugin_options() -> dict:
    """The options of every keystoneauth plugin installed, as auth_type loads them."""
    try:
        from keystoneauth1 import loading
    except ImportError:
        return {}
    found: dict = {}
    for name in sorted(loading.get_available_plugin_names()):
        try:
            opts = loading.get_auth_plugin_conf_options(name)
        except Exception:  # noqa: S112 - a plugin whose own imports fail offers nothing
            continue
        for opt in opts:
            dest = opt.dest.replace("-", "_")
            item = found.setdefault(dest, {"type": "string", "driver": "auth_type"})
            if getattr(opt, "secret", False):
                item["secret"] = True
    return found


def entry_point_values(service: str) -> dict:
    points = importlib.metadata.entry_points()
    values: dict = {}
    for (group, name), namespace in ENTRY_POINT_VALUES.get(service, {}).items():
        found = sorted({ep.name for ep in points.select(group=namespace)})
        if found:
            values.setdefault(group, {})[name] = found
    if service == "keystone":
        methods = sorted(
            g.split(".", 2)[2] for g in points.groups if g.startswith("keystone.auth.")
        )
        values.setdefault("auth", {})["methods"] = methods
    if service == "nova":
        from nova.scheduler import filters, weights

        values["filter_scheduler"] = {
            "enabled_filters": sorted({cls.__name__ for cls in filters.all_filters()}),
            "weight_classes": sorted(
                {f"{cls.__module__}.{cls.__name__}" for cls in weights.all_weighers()}
                | {"nova.scheduler.weights.all_weighers"}
            ),
        }
    return values


def _flat(items: object) -> list:
    # list_rules() returns rules, or (placement) lists of rules.
    found = []
    for item in items:  # type: ignore[attr-defined]
        found.extend(_flat(item) if isinstance(item, (list, tuple)) else [item])
    return found


def policies(service: str) -> dict:
    """Every policy rule the service registers: name, and what it deprecates."""
    points = importlib.metadata.entry_points().select(group="oslo.policy.policies", name=service)
    rules: dict = {}
    for ep in points:
        for rule in _flat(ep.load()()):
            item: dict = {}
            old = getattr(rule, "deprecated_rule", None)
            if old and hasattr(old, "name") and old.name != rule.name:
                item["deprecated_rule"] = old.name
            if getattr(rule, "deprecated_for_removal", False):
                item["deprecated_for_removal"] = True
                since = getattr(rule, "deprecated_since", None)
                if since:
                    item["deprecated_since"] = str(since)
            rules[rule.name] = item
    return rules


def migrations(service: str) -> dict:
    """The alembic revisions each migration repository of the service ships, and its heads.

    A repository is a directory with env.py and versions/ (revisions may sit in
    subdirectories of versions/, as keystone's and neutron's expand/contract
    branches do), named by its path in the package, e.g. nova/db/main/migrations.
    """
    import os

    from alembic.script import ScriptDirectory

    package = {"placement": "placement"}.get(service, service)
    top = os.path.dirname(importlib.import_module(package).__file__)
    site = os.path.dirname(top)
    found: dict = {}
    for root, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        if "env.py" not in files or "versions" not in dirs:
            continue
        locations = sorted(
            where
            for where, _dirs, names in os.walk(os.path.join(root, "versions"))
            if "__pycache__" not in where
            and any(n.endswith(".py") and n != "__init__.py" for n in names)
        )
        if not locations:
            continue
        script = ScriptDirectory(root, version_locations=locations)
        revisions = {}
        for rev in script.walk_revisions():
            down = rev.down_revision
            downs = [] if down is None else [down] if isinstance(down, str) else sorted(down)
            revisions[rev.revision] = downs
        found[os.path.relpath(root, site)] = {
            "heads": sorted(script.get_heads()),
            "revisions": revisions,
        }
    return found


def main() -> None:
    path, service, venv = sys.argv[1:4]
    with open(path) as fh:
        generated = yaml.safe_load(fh)
    names = _placeholders(venv)
    groups, dynamic = options(generated, names)
    document = {
        "options": groups,
        "dynamic_groups": dynamic,
        "values": entry_point_values(service),
        "policies": policies(service),
        "migrations": migrations(service),
        "libraries": {
            name: importlib.metadata.version(name) for name in ("oslo.config", "oslo.policy")
        },
    }
    json.dump(document, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
