"""The gdb stub's packet layer and dispatch under hostile input: malformed packets,
bad checksums, oversized lengths, binary junk and unknown packets never kill the
board, and the server keeps answering (hypothesis, in the style of test_fuzz_inputs)."""
from __future__ import annotations

import socket
import threading

import pytest
from gdb_client import HYP
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vizor.driver.commands import Quit
from vizor.driver.runner import Runner
from vizor.gdb.calls import with_gdb
from vizor.gdb.packets import (
    PacketReader,
    checksum,
    escape,
    expand,
    frame,
    run_length,
    unescape,
)
from vizor.gdb.server import GdbServer
from vizor.machine.board import Board, load_image

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
KINDS = {"packet", "interrupt", "ack", "nack", "bad"}


# --- the packet layer alone ---------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(1, 64), max_size=20), st.binary(max_size=40))
def test_the_reader_survives_any_bytes_in_any_pieces_and_finds_the_next_packet(junk, cuts, payload):
    r = PacketReader(max_packet=256)
    events, at = [], 0
    for n in cuts + [len(junk)]:
        events += r.feed(junk[at:at + n])
        at += n
    assert {e.kind for e in events} <= KINDS
    body = escape(payload)
    events = r.feed(b"#00" + frame(body))     # whatever state junk left: the next packet is read
    assert events[-1].kind == "packet" and unescape(events[-1].data) == payload


@FUZZ
@given(st.binary(max_size=300))
def test_run_length_and_escapes_round_trip(data):
    printable = bytes(b % 64 + 48 for b in data)      # what replies carry: no # $ } *
    packed = run_length(printable)
    assert expand(packed) == printable and b"#" not in packed and b"$" not in packed
    assert unescape(escape(data)) == data


def test_bad_checksum_oversized_and_junk_are_reported_not_raised():
    r = PacketReader(max_packet=16)
    assert [e.kind for e in r.feed(b"$g#00")] == ["bad"]
    assert [e.kind for e in r.feed(b"$" + b"m" * 100 + b"#12")] == ["bad"]
    assert [e.kind for e in r.feed(b"\xff\x00garbage+-\x03")] == ["ack", "nack", "interrupt"]
    assert [e.kind for e in r.feed(b"$g#zz")] == ["bad"]
    assert r.feed(b"$g#%02x" % checksum(b"g"))[0].data == b"g"


# --- a live server on the demo hypervisor ---------------------------------------------------

@pytest.fixture(scope="module")
def server():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    runner = with_gdb(Runner)(board, lambda _o: None, image=HYP)
    runner.snapshots = False
    srv = GdbServer(runner, "127.0.0.1", 0, log=lambda _t: None)
    machine = threading.Thread(target=runner.serve, daemon=True)
    machine.start()
    serving = threading.Thread(target=srv.serve, daemon=True)
    serving.start()
    yield srv
    srv.close()
    runner.send(Quit())
    runner.done.wait(10)


def _client(srv) -> socket.socket:
    s = socket.create_connection(srv.address[:2], timeout=10)
    return s


def _ask(s: socket.socket, data: bytes | None) -> bytes:
    """Send one framed packet (None: nothing) and read the next reply packet (acks dropped)."""
    if data is not None:
        s.sendall(frame(data))
    buf = b""
    while True:
        chunk = s.recv(65536)
        assert chunk, "the server closed the connection"
        buf += chunk
        start = buf.find(b"$")
        end = buf.find(b"#", start)
        if start >= 0 and end >= 0 and len(buf) >= end + 3:
            return expand(buf[start + 1:end])


def _healthy(srv) -> None:
    with _client(srv) as s:
        assert _ask(s, b"?").startswith(b"T05thread:1;")
        assert len(_ask(s, b"p20")) == 16                        # pc
        assert _ask(s, b"qfThreadInfo") == b"m1,2,3,4"


SAFE = [b"?", b"g", b"G", b"p", b"P", b"m", b"M", b"X", b"Z", b"z", b"H", b"T", b"q", b"Q", b"v", b"x", b"!"]


@settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SAFE), st.binary(max_size=80))
def test_any_packet_gets_a_reply_and_the_board_lives(server, head, body):
    if head == b"v" and body[:4] in (b"Cont", b"Kill"):          # resuming and killing are not fuzzed
        body = b"x" + body
    if head == b"q" and body.startswith(b"Rcmd"):
        body = b"x" + body
    with _client(server) as s:
        s.sendall(b"+")
        reply = _ask(s, escape(head + body))
        assert reply == b"" or reply[:1] in b"ETlmOQ0123456789abcdefx" or reply == b"OK"
        assert _ask(s, b"qC") in (b"QC1", b"QC2", b"QC3", b"QC4")


def test_hostile_bytes_over_the_socket_then_a_normal_client(server):
    with _client(server) as s:
        s.sendall(b"\x00\xff junk $g#00 $" + b"A" * 70000 + b"#00")   # bad checksum, oversized packet
        s.sendall(b"$m0,ffffffffffffffffffff#%02x" % checksum(b"m0,ffffffffffffffffffff"))
        assert _ask(s, None) == b"E01"                           # the m packet: a length wider than 64 bits
        s.sendall(b"$" + bytes(range(256)).replace(b"#", b"").replace(b"$", b"") + b"#00")
        assert _ask(s, b"vUnknownPacket") == b""
        assert _ask(s, b"m0,100000000") == b"E01"                # an absurd length
        assert _ask(s, b"mffff800000000000,8") == b"E01"         # no translation
        assert _ask(s, b"qRcmd,zz") == b"E01"                    # not hex
    _healthy(server)


def test_monitor_without_a_client_breaks_nothing_and_refusals_are_output(server):
    with _client(server) as s:
        s.sendall(frame(b"qRcmd," + b"break 0x80010@vmid=999".hex().encode()))
        data = b""
        while b"$OK#" not in data:
            data += s.recv(65536)
        assert bytes.fromhex(data.split(b"$O", 1)[1].split(b"#")[0].decode()).startswith(b"vizor: break")
    _healthy(server)
