"""A distribution's requirements read from its metadata: what is missing, and the fix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from osops import requirements

METADATA = """\
Metadata-Version: 2.1
Name: osops-thing
Version: 1.0
Requires-Dist: osops==0.1.0
Requires-Dist: Present_Lib>=2
Requires-Dist: absent.lib>=1.5
Requires-Dist: other-arch>=1; platform_machine == "no-such-machine"
Requires-Dist: this-python>=1; python_version >= "3"
Requires-Dist: fancy-lib; extra == "fancy"
Requires-Dist: plain-extra>=3; python_version >= "3" and extra == "plain"

Requires-Dist: not-a-header-but-the-description
"""

REQUIRES_TXT = """\
osops==0.1.0
absent-egg>=1

[fancy]
fancy-egg

[:platform_machine == "no-such-machine"]
other-arch-egg
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sys.path of one directory of metadata (packaging, for markers, imported before)."""
    import packaging.markers  # noqa: F401

    for name in ("osops-0.1.0", "present_lib-2.0"):
        (tmp_path / f"{name}.dist-info").mkdir()
    thing = tmp_path / "osops_thing-1.0.dist-info"
    thing.mkdir()
    (thing / "METADATA").write_text(METADATA)
    egg = tmp_path / "osops_egg.egg-info"
    egg.mkdir()
    (egg / "requires.txt").write_text(REQUIRES_TXT)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "nowhere"), str(tmp_path)])
    return tmp_path


def test_what_is_missing_of_a_dist_info(site: Path) -> None:
    gaps = requirements.missing("osops-thing")
    assert [(g.name, g.requirement, g.extra) for g in gaps] == [
        ("absent.lib", "absent.lib>=1.5", None),
        ("this-python", "this-python>=1", None),
    ]
    assert requirements.describe("osops-thing", gaps) == (
        "missing: absent.lib, this-python (pip install 'absent.lib>=1.5' 'this-python>=1')"
    )


def test_an_extra_counts_only_where_the_plugin_names_it(site: Path) -> None:
    gaps = requirements.missing("osops-thing", ["Fancy", "plain"])
    assert [(g.name, g.extra) for g in gaps][2:] == [
        ("fancy-lib", "fancy"),
        ("plain-extra", "plain"),
    ]
    assert requirements.fix("osops-thing", gaps[2:]) == (
        "pip install 'osops-thing[fancy]' 'osops-thing[plain]'"
    )


def test_what_is_missing_of_an_egg_info(site: Path) -> None:
    assert [g.requirement for g in requirements.missing("osops-egg")] == ["absent-egg>=1"]
    assert [g.name for g in requirements.missing("osops-egg", ["fancy"])] == [
        "absent-egg",
        "fancy-egg",
    ]


def test_nothing_is_missing_of_what_is_not_installed_or_complete(site: Path) -> None:
    assert requirements.missing("not-installed") == []
    assert requirements.missing("present-lib") == []  # no metadata file: nothing declared


def test_the_installed_osops_lacks_nothing() -> None:
    for distribution in ("osops", "osops-monitoring", "osops-logging", "osops-upgrade"):
        assert requirements.missing(distribution) == [], distribution
