"""The remote protocol's packet layer (GDB manual, "Overview" of the remote protocol).

A packet is ``$`` DATA ``#`` CC, CC the two hex digits of the modulo-256 sum
of DATA's bytes as sent.  Inside DATA, ``}`` escapes the next byte (XOR
0x20) and in replies ``*`` repeats the previous byte (the next byte minus 29
more times).  Outside packets, ``+``/``-`` acknowledge and 0x03 asks the target to
stop.  ``PacketReader`` takes bytes in whatever pieces the socket gives and
yields what they were; nothing it is fed can raise: junk between packets is
skipped, a packet longer than ``max_packet`` is dropped, a bad checksum is
reported so that the server asks again.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET_SIZE = 0x4000          # the largest packet we accept, and announce in qSupported
_ESCAPED = b"#$}*"


@dataclass(frozen=True)
class Event:
    kind: str                 # "packet" | "interrupt" | "ack" | "nack" | "bad"
    data: bytes = b""         # the packet's decoded data ("packet"), or why ("bad")


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Binary data as it may appear in a packet."""
    out = bytearray()
    for b in data:
        if b in _ESCAPED:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def frame(data: bytes) -> bytes:
    """``$data#cc``: ``data`` must already be escaped where it is binary."""
    return b"$" + data + b"#" + b"%02x" % checksum(data)


def unescape(raw: bytes) -> bytes:
    """Binary data of a packet (X) with its escapes undone.  ValueError on a
    dangling escape.  gdb never run-length encodes what it sends, and does not
    escape ``*`` in binary data, so nothing else is undone."""
    if 0x7D not in raw:
        return raw
    out = bytearray()
    it = iter(raw)
    for b in it:
        if b == 0x7D:
            nxt = next(it, None)
            if nxt is None:
                raise ValueError("escape at the end of the packet")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def run_length(data: bytes) -> bytes:
    """A reply (printable, not binary) with runs of 4 or more bytes written as
    ``X*n`` (n = repeats + 29; never '#' or '$', so runs of 7 and 8 are split)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        j = i + 1
        while j < n and data[j] == b and j - i < 98:
            j += 1
        more = j - i - 1                    # repeats after the first byte
        if more in (6, 7):                  # 29 + 6 = '#', 29 + 7 = '$'
            more, j = 5, i + 6
        if more >= 3:
            out += bytes((b, 0x2A, more + 29))
        else:
            out += data[i:j]
        i = j
    return bytes(out)


def expand(data: bytes) -> bytes:
    """Undo ``run_length`` (what gdb does with a reply).  ValueError if malformed."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        if data[i] == 0x2A:
            if not out or i + 1 >= n or not 0 < data[i + 1] - 29 <= 97:
                raise ValueError("bad run length")
            out += bytes((out[-1],)) * (data[i + 1] - 29)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


class PacketReader:
    """Bytes in, events out (``feed``)."""

    def __init__(self, max_packet: int = PACKET_SIZE) -> None:
        self.max_packet = max_packet
        self._buf = bytearray()
        self._state = "idle"       # "idle" | "data" | "sum" | "skip" (an oversized packet) | "skipsum"
        self._sum = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for b in data:
            state = self._state
            if state == "idle":
                if b == 0x24:              # '$'
                    self._state = "data"
                    self._buf.clear()
                elif b == 0x03:
                    events.append(Event("interrupt"))
                elif b == 0x2B:
                    events.append(Event("ack"))
                elif b == 0x2D:
                    events.append(Event("nack"))
                # anything else between packets is junk
            elif state in ("data", "skip"):
                if b == 0x23:              # '#'
                    self._state = "sum" if state == "data" else "skipsum"
                    self._sum.clear()
                elif b == 0x24:            # a new '$' restarts
                    self._state = "data"
                    self._buf.clear()
                elif state == "data":
                    self._buf.append(b)
                    if len(self._buf) > self.max_packet:
                        self._state = "skip"
                        self._buf.clear()
            else:                          # the two checksum digits
                self._sum.append(b)
                if len(self._sum) == 2:
                    if state == "sum":
                        events.append(self._finish(bytes(self._buf), bytes(self._sum)))
                    else:
                        events.append(Event("bad", b"packet too long"))
                    self._state = "idle"
                    self._buf.clear()
        return events

    @staticmethod
    def _finish(raw: bytes, cc: bytes) -> Event:
        try:
            want = int(cc.decode("ascii"), 16)
        except (UnicodeDecodeError, ValueError):
            return Event("bad", b"checksum is not hex")
        if want != checksum(raw):
            return Event("bad", b"bad checksum")
        return Event("packet", raw)


def hex_bytes(text: bytes | str) -> bytes:
    """Hex digits to bytes (ValueError on anything else)."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    return bytes.fromhex(text)


def to_hex(data: bytes) -> bytes:
    return data.hex().encode()


def address_length(text: bytes) -> tuple[int, int]:
    """``ADDR,LENGTH`` in hex (ValueError if malformed or absurd)."""
    a, _, n = text.partition(b",")
    addr, length = int(a, 16), int(n, 16)
    if not 0 <= addr < 1 << 64:
        raise ValueError(f"address {a!r} is wider than 64 bits")
    if not 0 <= length <= 1 << 20:
        raise ValueError(f"length {length:#x} is too large")
    return addr, length


def show(pkt: bytes) -> str:
    """A packet's start, printable, for a log line."""
    return repr(pkt[:40])[2:-1] + ("..." if len(pkt) > 40 else "")
