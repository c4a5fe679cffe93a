"""The fused default chain gives exactly what the chain gives record by record.

``osops log parse`` runs redact, parse and enrich fused, over pieces of big
files in worker processes; ship, stats and trace run them record by record.
Both must agree byte for byte, whatever the input and wherever a file is cut.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import itertools
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import OSOPS, SAMPLES, run_osops
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import HEADS

from osops.exceptions import LogError
from osops.log import parallel, pipeline, spool, worker
from osops.log.fusing import Fused
from osops.log.redact import Redact

SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".py")
SAMPLE_FILES = [p for p in SAMPLE_FILES if p.name != "SOURCES.md"]


def by_records(path: Path, start: int = 0, stop: int | None = None, line: int = 0) -> bytes:
    chain = pipeline.build_chain(None)
    return b"".join(parallel.record_by_record(chain, str(path), start, line, stop))


def fused_pieces(path: Path, size: int) -> tuple[bytes, int]:
    """The fused chain's output over pieces of ``size`` bytes, and how many pieces."""
    fused = pipeline.build_chain(None).fused()
    assert fused is not None
    pieces = list(parallel.pieces(fused, str(path), size))
    out = b"".join(b"".join(fused.serialize(str(path), *piece)) for piece in pieces)
    return out, len(pieces)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_fused_equals_record_by_record_on_every_sample(path: Path) -> None:
    expected = by_records(path)
    assert expected.count(b"\n") > 3
    whole, count = fused_pieces(path, 1 << 30)
    assert count == 1
    assert whole == expected
    cut, count = fused_pieces(path, min(2048, path.stat().st_size // 3))
    # A file no grammar knows (os-log-merger's own output) has nowhere to cut.
    assert count > 1 or b'"openstack.log_format"' not in expected
    assert cut == expected


def test_pieces_are_cut_only_where_a_record_starts() -> None:
    path = SAMPLES / "hp-ms-01-c29.nova-compute.log"
    fused = pipeline.build_chain(None).fused()
    assert fused is not None
    data = path.read_bytes()
    pieces = list(parallel.pieces(fused, str(path), 4096))
    assert pieces[0][:2] == (0, pieces[1][0]) and pieces[-1][1] == len(data)
    for (_, stop, _), (start, _, line) in itertools.pairwise(pieces):
        assert stop == start
        assert data[:start].count(b"\n") == line  # line numbers carried over
        head = data[start : data.index(b"\n", start)]
        assert b" TRACE " not in head[:40] and b" ERROR " not in head[:40]


LINE = st.builds(
    lambda head, body, end: head + body + end,
    HEADS,
    st.one_of(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=60
        ),
        st.sampled_from(
            [
                "password=Pw-1 token: 'gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5'",
                "Traceback (most recent call last):",
                '  File "/x.py", line 1, in f',
                "ValueError: bad",
                'req "GET /v2.1/servers HTTP/1.1" status: 200 len: 1893 time: 0.2477829',
                "debug text f /usr/lib/python3/dist-packages/nova/x.py:12",
                # Private key blocks are masked across lines: a cut must never
                # fall where one may go on.
                "key -----BEGIN RSA PRIVATE KEY-----",
                "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB1L9RIvNEVUxTveLruM0rfj",
                "0WAK1jHDhaXXzO",
                "u70djoXf8g==",
                "Proc-Type: 4,ENCRYPTED",
                "-----END RSA PRIVATE KEY-----",
                "Started child 5499",
            ]
        ),
    ),
    st.sampled_from(["\n", "\n", "\n", "\r\n", "\r\r\n"]),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(LINE, min_size=1, max_size=40),
    junk=st.binary(max_size=8),
    last=st.booleans(),
    size=st.integers(1, 400),
)
def test_fused_equals_record_by_record_on_fuzzed_files(
    tmp_path: Path, lines: list[str], junk: bytes, last: bool, size: int
) -> None:
    data = "".join(lines).encode() + junk  # invalid UTF-8 and a last line with no newline
    if last:
        data = data.rstrip(b"\n")
    path = tmp_path / "fuzz.nova-api.log"
    path.write_bytes(data)
    expected = by_records(path)
    assert fused_pieces(path, 1 << 30)[0] == expected
    assert fused_pieces(path, size)[0] == expected


def test_only_the_exact_default_chain_is_fused() -> None:
    assert pipeline.build_chain(None).fused() is not None
    assert pipeline.build_chain(["redact", "parse", "enrich", "drop"]).fused() is None
    assert pipeline.build_chain(["parse", "enrich"]).fused() is None  # redact appended last

    class Stricter(Redact):
        """A site's own redaction: must run, so nothing is fused."""

    chain = pipeline.build_chain(None)
    chain.steps = [(name, Stricter if cls is Redact else cls, o) for name, cls, o in chain.steps]
    assert chain.fused() is None


class Failing(Fused):
    """A fused chain with a bug."""

    def starts_record(self, path: str, line: bytes) -> bool:
        return True

    def serialize(self, path: str, start: int, stop: int, line: int) -> Iterator[bytes]:
        yield b"half a piece\n"
        raise KeyError("bug")


def test_a_failing_fused_chain_falls_back_to_records(caplog: pytest.LogCaptureFixture) -> None:
    path = SAMPLES / "hp-ms-01-c29.nova-api.log"
    chain = pipeline.build_chain(None)
    size = path.stat().st_size
    with caplog.at_level(logging.WARNING):
        out = worker.piece(Failing(), chain, str(path), 0, size, 0)
    assert out == by_records(path)
    assert f"fused chain failed on {path} bytes 0-{size} (KeyError)" in caplog.text


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bundled real logs repeated past two pieces, so that workers share the file."""
    text = b"".join((SAMPLES / name).read_bytes() for name in ("hp-ms-01-c29.nova-api.log",))
    path = tmp_path_factory.mktemp("big") / "ctl1.nova-api.log"
    with open(path, "wb") as fh:
        while fh.tell() < 2 * parallel.PIECE + 12345:
            fh.write(text)
    return path


def test_parse_in_worker_processes_equals_one_process(big_log: Path, tmp_path: Path) -> None:
    outputs = {}
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"j{jobs}.jsonl"
        proc = run_osops("log", "parse", str(big_log), "-j", jobs, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        outputs[jobs] = out.read_bytes()
    assert outputs["1"] == outputs["2"] == outputs["3"] == by_records(big_log)
    proc = run_osops("log", "parse", str(big_log), str(SAMPLES / "hp-ms-01-c29.nova-api.log"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.encode() == outputs["1"] + by_records(SAMPLES / "hp-ms-01-c29.nova-api.log")


def test_workers_spool_pieces_privately_and_leave_nothing(big_log: Path) -> None:
    before = set(Path("/dev/shm").glob("osops-parse-*"))
    out = io.BytesIO()  # no file descriptor: pieces are copied, not sent by the kernel
    parallel.write_json_lines(pipeline.build_chain(None), [str(big_log)], out, jobs=2)
    assert out.getvalue() == by_records(big_log)
    assert set(Path("/dev/shm").glob("osops-parse-*")) == before


def test_a_piece_bigger_than_its_slot_goes_on_in_a_spool_file_then_is_removed(
    big_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slots of 4 KiB: every piece spills; the output is the same and no spool file stays."""
    spooled: list[worker.Spooled] = []
    append = spool.append

    def noting(out: Any, *how: Any) -> None:
        spooled.append(how[-1])
        append(out, *how)

    monkeypatch.setattr(parallel, "SLOT", 4096)
    monkeypatch.setattr(spool, "append", noting)
    before = set(Path("/dev/shm").glob("osops-parse-*"))
    for kind in (io.BytesIO, tempfile.TemporaryFile):  # copied here; sent by the kernel
        with kind() as out:
            parallel.write_json_lines(pipeline.build_chain(None), [str(big_log)], out, jobs=2)
            out.seek(0)
            assert out.read() == by_records(big_log)
    assert len(spooled) >= 6
    assert all(piece.used <= 4096 and isinstance(piece.rest, str) for piece in spooled)
    assert not any(Path(str(piece.rest)).exists() for piece in spooled)
    assert set(Path("/dev/shm").glob("osops-parse-*")) == before


def test_slots_are_written_again_and_the_file_stays_their_size(
    big_log: Path, tmp_path: Path
) -> None:
    """Two slots for six pieces: each is overwritten, and nothing spills past its end."""
    chain = pipeline.build_chain(None)
    fused = chain.fused()
    assert fused is not None
    cuts = list(parallel.pieces(fused, str(big_log)))
    assert len(cuts) >= 3
    expected = b""
    with open(tmp_path / "slots", "w+b") as shared:
        slots = worker.Slots(shared.fileno(), parallel.SLOT)
        worker.start(fused, chain, str(tmp_path), slots)
        try:
            out = io.BytesIO()
            for index, (start, stop, line) in enumerate(cuts):
                slot = index % 2
                piece = worker.work(str(big_log), start, stop, line, True, slot)
                assert piece.rest is None
                assert piece.records == by_records(big_log, start, stop, line).count(b"\n")
                spool.append(out, None, None, bytearray(1 << 20), slots, slot, piece)
                expected += by_records(big_log, start, stop, line)
        finally:
            worker._WORKER = None
        assert os.fstat(shared.fileno()).st_size <= 2 * parallel.SLOT
    assert out.getvalue() == expected == by_records(big_log)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["slots"]


def test_a_slow_reader_of_a_pipe_gets_every_piece_as_written(tmp_path: Path) -> None:
    """Into a pipe, sendfile lends the spool's pages until the reader takes them, and a
    slot is written again once free: what a slow reader gets must still be each piece."""
    text = (SAMPLES / "hp-ms-01-c29.nova-api.log").read_bytes()
    big = tmp_path / "ctl1.nova-api.log"
    with open(big, "wb") as fh:
        while fh.tell() < 7 * parallel.PIECE:  # more pieces than two workers have slots
            fh.write(text)
    expected = by_records(big)
    proc = subprocess.Popen(
        [str(OSOPS), "log", "parse", str(big), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    got = bytearray()
    try:
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        time.sleep(0.5)  # the pipe fills; the workers go on
        deadline = time.monotonic() + 60
        while chunk := os.read(proc.stdout.fileno(), 1 << 20):
            got += chunk
            assert time.monotonic() < deadline, "still reading after 60 s"
            time.sleep(0.05)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    code = proc.wait(60)
    assert (code, proc.stderr.read()) == (0, b"")
    assert len(got) == len(expected)
    assert bytes(got) == expected  # the first difference, if any, is a slot written again


def test_the_slots_go_to_the_temporary_directory_when_the_spool_has_no_room(
    big_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where: list[str] = []
    fallocate = os.posix_fallocate

    def full_shm(fd: int, offset: int, size: int) -> None:
        where.append(os.readlink(f"/proc/self/fd/{fd}"))
        if where[-1].startswith("/dev/shm/"):
            raise OSError(errno.ENOSPC, "No space left on device")
        fallocate(fd, offset, size)

    used: list[str] = []
    slots_file = spool.slots_file

    @contextlib.contextmanager
    def noting(where: str, size: int) -> Iterator[Any]:
        with slots_file(where, size) as shared:
            used.append(os.readlink(f"/proc/self/fd/{shared.fileno()}"))
            yield shared

    monkeypatch.setattr(os, "posix_fallocate", full_shm)
    monkeypatch.setattr(spool, "slots_file", noting)
    out = io.BytesIO()
    parallel.write_json_lines(pipeline.build_chain(None), [str(big_log)], out, jobs=2)
    assert out.getvalue() == by_records(big_log)
    assert len(used) == 1 and not used[0].startswith("/dev/shm/")
    assert used[0].startswith(tempfile.gettempdir())
    if os.access("/dev/shm", os.W_OK):
        assert [w.startswith("/dev/shm/osops-parse-") for w in where] == [True]


def test_a_full_spool_sends_the_piece_back(tmp_path: Path) -> None:
    path = SAMPLES / "hp-ms-01-c29.nova-api.log"
    chain = pipeline.build_chain(None)
    fused = chain.fused()
    assert fused is not None
    size = path.stat().st_size
    (tmp_path / "slots").write_bytes(b"")
    with open(tmp_path / "slots", "rb") as shared:  # cannot be written to
        slots = worker.Slots(shared.fileno(), parallel.SLOT)
        worker.start(fused, chain, str(tmp_path), slots)
        try:
            piece = worker.work(str(path), 0, size, 0, True, 1)
            uncounted = worker.work(str(path), 0, size, 0, False, 1)
        finally:
            worker._WORKER = None
        assert piece == (0, by_records(path), by_records(path).count(b"\n"))
        assert uncounted == (0, by_records(path), -1)
        out = io.BytesIO()
        spool.append(out, None, None, bytearray(1 << 20), slots, 1, piece)
    assert out.getvalue() == by_records(path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["slots"]


def test_a_log_file_gone_under_a_worker_is_an_error_and_no_spool_is_left(
    tmp_path: Path,
) -> None:
    chain = pipeline.build_chain(None)
    fused = chain.fused()
    assert fused is not None
    with tempfile.TemporaryFile(dir=tmp_path) as shared:
        worker.start(fused, chain, str(tmp_path), worker.Slots(shared.fileno(), 4096))
        try:
            with pytest.raises(LogError, match=r"gone\.nova-api\.log: No such file"):
                worker.work(str(tmp_path / "gone.nova-api.log"), 0, 4096, 0, False, 0)
        finally:
            worker._WORKER = None
    assert list(tmp_path.iterdir()) == []


def test_bad_jobs_value_is_one_line() -> None:
    proc = run_osops("log", "parse", "-j", "0", str(SAMPLES / "hp-ms-01-c29.nova-api.log"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "argument -j/--jobs: 0: must be 1 or more" in proc.stderr
