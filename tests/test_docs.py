"""The plugin reference in doc/ is generated from metadata and kept current."""

from __future__ import annotations

from helpers import ROOT, run_osops


def test_committed_reference_matches_the_metadata() -> None:
    proc = run_osops("plugin", "doc")
    assert proc.returncode == 0, proc.stderr
    committed = (ROOT / "doc" / "plugins.md").read_text()
    assert committed == proc.stdout, "regenerate: .venv/bin/osops plugin doc -o doc/plugins.md"


def test_reference_covers_every_plugin_with_its_options() -> None:
    text = run_osops("plugin", "doc", "--kind", "check").stdout
    for name in ("dummy", "http", "rabbitmq", "galera", "nova_services"):
        assert f"### `{name}`" in text
    assert (
        "| `--expected-size` | int of at least 1 |  | Nodes the cluster should have; fewer is CRITICAL. |"
        in text
    )
    assert "| `--password` | str, secret |  |" in text


def test_readme_lists_what_redaction_masks() -> None:
    from osops.log import secrets

    readme = (ROOT / "README.md").read_text()
    _, begin, rest = readme.partition(secrets.BEGIN + "\n")
    block, end, _ = rest.partition(secrets.END)
    assert begin and end, "README.md lost its generated list of what is masked"
    assert block == secrets.markdown(), (
        "regenerate: .venv/bin/python -m osops.log.secrets --readme README.md"
    )
    for name in secrets.names():
        assert f"`{name}`" in block
