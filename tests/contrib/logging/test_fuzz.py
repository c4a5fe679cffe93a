"""Hypothesis: whatever the lines, the chain raises nothing and accounts for every line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from osops.log import pipeline
from osops.log.record import LogRecord

HEADS = st.sampled_from(
    [
        "2015-10-29 10:51:12.480 3405 ERROR neutron.service [-] ",
        "2015-10-29 10:51:12.480 3405 TRACE neutron.service ",
        "2024-05-02 09:20:00.100 931 ERROR oslo_messaging.rpc.server [None req-5e1d2c3b-1111-4a2b-9c3d-4e5f6a7b8c9d admin admin - - default default] ",
        "2024-05-02 09:20:00.100 INFO nova.api [req-x None] ",
        "Mar 28 12:20:43.570064 host cinder-api[8526]: ERROR cinder.api [-] ",
        "Oct 11 07:49:20 host systemd: ",
        "",
        "  ",
    ]
)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=80
)
LINES = st.lists(st.builds(lambda head, body: head + body, HEADS, TEXT), max_size=30)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_no_exception_and_no_line_lost(lines: list[str]) -> None:
    chain = pipeline.build_chain(None)
    raw = [LogRecord(raw=line, file="fuzz.log", line=n) for n, line in enumerate(lines, 1)]
    out = list(chain.run(raw))
    assert sum(r.raw.count("\n") + 1 for r in out) == len(lines)
    for record in out:
        record.to_dict()
