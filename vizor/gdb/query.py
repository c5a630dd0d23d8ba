"""General queries (q and Q packets) and ``monitor`` (qRcmd), for a server.Session."""

from __future__ import annotations

from vizor.gdb import target as T
from vizor.gdb.monitor import MonitorError, run_monitor
from vizor.gdb.packets import PACKET_SIZE, address_length, to_hex
from vizor.gdb.registers import TARGET_XML

NCORES = 4


def query(session, pkt: bytes) -> bytes | None:
    """A q or Q packet of ``session`` (a server.Session); None: answered already."""
    name, _, arg = pkt.partition(b":")
    if name == b"qSupported":
        features = (f"PacketSize={PACKET_SIZE:x};swbreak+;hwbreak+;qXfer:features:read+;"
                    f"vContSupported+;QStartNoAckMode+")
        return (features + (";ReverseStep+;ReverseContinue+" if session.server.reverse else "")).encode()
    if name == b"QStartNoAckMode":
        session.send(b"OK")
        session.acks = False
        return None
    if name == b"qAttached" or pkt.startswith(b"qAttached"):
        return b"1"
    if pkt == b"qC":
        return b"QC%x" % (session._core() + 1)
    if pkt == b"qfThreadInfo":
        return b"m" + b",".join(b"%x" % (i + 1) for i in range(NCORES))
    if pkt == b"qsThreadInfo":
        return b"l"
    if pkt.startswith(b"qThreadExtraInfo,"):
        core = session._thread(pkt.split(b",", 1)[1])
        return to_hex(session.server.call(lambda r: T.thread_info(r, core)).encode())
    if name == b"qXfer" and arg.startswith(b"features:read:"):
        annex, _, window = arg[len(b"features:read:"):].partition(b":")
        if annex != b"target.xml":
            return b"E00"
        off, length = address_length(window)
        chunk = TARGET_XML[off:off + length]
        session.send((b"l" if off + length >= len(TARGET_XML) else b"m") + chunk, binary=True)
        return None
    if pkt.startswith(b"qRcmd,"):
        return _monitor(session, bytes.fromhex(pkt[6:].decode("ascii")).decode("utf-8", "replace"))
    return b""


def _monitor(session, text: str) -> bytes:
    """qRcmd: the output as O packets, then OK (a refusal is output too)."""
    core = session._core()
    try:
        out = session.server.call(lambda r: run_monitor(r, core, text))
    except (MonitorError, ValueError, KeyError) as e:
        out = f"vizor: {str(e).strip(chr(39))}"
    text = (out.rstrip("\n") + "\n").encode()
    for i in range(0, len(text), 1024):               # O packets of at most 2 KiB of hex
        session.send(b"O" + to_hex(text[i:i + 1024]))
    return b"OK"

