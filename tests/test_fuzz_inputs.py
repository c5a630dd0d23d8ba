"""Fuzzing what users and files hand vizor: the session loader, the image loader and
the stop-condition parsers answer every input with their one-line error or a result,
never a traceback, in bounded time."""
from __future__ import annotations

import os
import struct
import tempfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vizor.machine.board import Board, ImageError, load_image
from vizor.machine.debug import Debugger, SpecError, add_break, add_catch, add_watch
from vizor.machine.session.format import KINDS, MAGIC, SessionError
from vizor.machine.session.reader import load_session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _file(data: bytes) -> str:
    fd, path = tempfile.mkstemp(prefix="vizor-fuzz-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def refused_in_one_line(load, error, data: bytes) -> None:
    """``load`` (of a path) on a file holding ``data``: a result, or ``error`` in one line."""
    path = _file(data)
    try:
        load(path)
    except error as e:
        assert "\n" not in str(e)
    finally:
        os.unlink(path)


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack("<4sI", kind, len(payload)) + payload + struct.pack("<I", zlib.crc32(payload))


json_ish = st.one_of(st.binary(max_size=64),
                     st.builds(lambda s: s.encode(), st.text(max_size=64)),
                     st.sampled_from([b"{}", b'{"format": 2}', b'{"format": 2, "image": {"size": 1}, '
                                                            b'"boot": {"boot_el": 2}}', b"[]", b"null"]))
chunks = st.lists(st.tuples(st.sampled_from(KINDS + (b"ZZZZ",)), json_ish), max_size=6)


@FUZZ
@given(chunks, st.booleans())
def test_the_session_loader_refuses_garbage_in_one_line(parts, with_magic):
    refused_in_one_line(load_session, SessionError,
                        (MAGIC if with_magic else b"") + b"".join(chunk(k, p) for k, p in parts))


@FUZZ
@given(st.binary(max_size=512), st.sampled_from([2, 3]))
def test_the_image_loader_refuses_garbage_in_one_line(data, el):
    refused_in_one_line(lambda path: load_image(path, el), ImageError, data)


@FUZZ
@given(st.binary(max_size=256))
def test_a_damaged_elf_header_is_an_image_error(tail):
    with open(HYP, "rb") as f:
        head = f.read(64)
    refused_in_one_line(load_image, ImageError, head + tail)


@pytest.fixture(scope="module")
def debugger():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    return Debugger(board)


spec_text = st.one_of(
    st.text(max_size=40),
    st.builds(lambda *p: "".join(p),
              st.sampled_from(["", "pa:", "ipa:", "va:", "0x", "main", "schedule", "exception:", "sysreg:",
                               "vm-exit", "mmio"]),
              st.text(alphabet="0123456789abcdefxX_+-@=: ", max_size=24),
              st.sampled_from(["", "@vmid=1", "@el=2", "@core=9", "@vmid=300", "@if=x0==1", "@ignore=2",
                               "@w", "@r", "@zz"])))


@FUZZ
@given(spec_text)
def test_the_stop_spec_parsers_answer_every_text_in_one_line(debugger, text):
    for parse in (add_break, add_watch, add_catch):
        try:
            cond = parse(debugger, text)
        except SpecError as e:
            assert "\n" not in str(e)
        else:
            debugger.remove(cond.id)
