"""Genuine current-format logs written by oslo.log itself (samples/oslo/write_samples.py)."""

from __future__ import annotations

from typing import Any

from helpers import SAMPLES

from osops.log import pipeline

GENUINE = SAMPLES / "oslo" / "nova-compute.log"


def records() -> list[dict[str, Any]]:
    return [r.to_dict() for r in pipeline.build_chain(None).records(str(GENUINE))]


def test_every_line_lands_in_one_record() -> None:
    lines = GENUINE.read_text().count("\n")
    chain = pipeline.build_chain(None)
    assert sum(r.raw.count("\n") + 1 for r in chain.records(str(GENUINE))) == lines
    assert len(records()) == 8


def test_context_instance_and_traceback() -> None:
    by_message = {r["message"]: r for r in records()}
    failed = by_message["Instance failed to spawn: ValueError: Volume 5c1d not found in cinder"]
    assert failed["openstack.global_request_id"] == "req-0b8f36d4-4f5a-4e3c-9d0e-8c1f2a3b4c5d"
    assert failed["openstack.request_id"] == "req-6a9c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
    assert failed["openstack.user_id"] == "6f4e3a2b1c0d4e5f8a9b0c1d2e3f4a5b"
    assert failed["openstack.user_domain_id"] == "default"
    assert failed["openstack.instance_uuid"] == "4d2e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"
    assert (failed["error.type"], failed["error.message"]) == (
        "ValueError",
        "Volume 5c1d not found in cinder",
    )
    assert failed["error.stack_trace"].splitlines()[0] == "Traceback (most recent call last):"
    assert '    raise ValueError("Volume 5c1d not found in cinder")' in failed["error.stack_trace"]
    assert failed["service.name"] == "nova-compute"


def test_debug_suffix_access_line_and_no_context() -> None:
    found = records()
    debug = next(r for r in found if r["log.level"] == "DEBUG")
    assert (debug["message"], debug["log.origin.function"]) == (
        "Lock acquired by build_and_run_instance",
        "main",
    )
    access = next(r for r in found if "http.request.method" in r)
    assert (access["url.path"], access["http.response.status_code"], access["event.duration"]) == (
        "/v2.1/servers/detail",
        200,
        247782900,
    )
    assert "openstack.request_id" not in found[0]
    assert found[-1]["openstack.request_id"] == "req-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
    assert "openstack.global_request_id" not in found[-1]


def test_transport_url_password_is_redacted() -> None:
    text = str(records())
    assert "Secr3t-Rabbit" not in text
    assert "rabbit://nova:***@ctl-1:5672/" in text
