"""Checkpoints: the whole board at one instruction count, and back.

A checkpoint holds everything a run depends on, so that restoring it and
running to count N gives exactly the machine a straight run to N gives:

* each core's CPU state (Unicorn's context: general, system and FP
  registers, PSTATE) and the Python side of ``Core`` (the architectural
  HCR_EL2 and SCR_EL3 — QEMU's HCR_EL2 never holds TWI —, run state,
  instruction count, IMPLEMENTATION DEFINED registers, exception history,
  the stuck-loop detector);
* every device's ``state()`` (the per-core generic timers included), the
  level of every interrupt line, and the unmodelled-access log of the bus;
* the clock and its event queue: time, sequence counter and each pending
  event's (time, sequence) by the device slot that holds it;
* the board's place in its round-robin schedule (``_next_core``,
  ``_round_done``, ``_round_end``) and its instruction count, and its power:
  off (the watchdog's halt partition) and the power cycles behind it (``power``,
  written only once the watchdog has acted: older files have none);
* RAM, as the 64 KiB blocks that changed since the previous checkpoint
  (``RamTracker``), zlib-compressed.

Restoring devices by ``restore(state)`` alone is not exact in the middle of a
round (a device evaluates its conditions at the clock's round start, not at
the instruction it last ran at), so after the devices are restored the line
levels and the event times are put back as they were saved.

Everything here is plain data (ints, strings, bytes) that ``format.py``
writes as JSON and binary chunks; nothing is pickled.
"""

from __future__ import annotations

import array
import ctypes
import hashlib
import heapq
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field

from vizor.machine.arch.exceptions import ExceptionRecord
from vizor.machine.board.board import RAM_MAPPED, Board
from vizor.machine.board.bus import UnmodelledRecord
from vizor.machine.clock import Event
from vizor.machine.cpu.pmu import CycleCounterState
from vizor.machine.cpu.sysreg_hooks import SPSR_ENC
from vizor.machine.devices.base import IrqLine
from vizor.machine.session.plain import CheckpointError, _state_of, to_plain

BLOCK = 1 << 16
NBLOCKS = RAM_MAPPED // BLOCK
ZERO_BLOCK = bytes(BLOCK)
ZERO_DIGEST = hashlib.blake2b(ZERO_BLOCK, digest_size=16).digest()
# Bytes of Unicorn 2.1.4's context (counted from the start of the saved
# context) that are not machine state: QEMU's PMU cycle counter delta
# (PMCCNTR_EL0 counts host time; vizor's guests do not rely on it), and
# env->exception (syndrome, FSR, address, target EL), QEMU's scratch for an
# exception it raises — vizor takes exceptions itself, and a breakpoint
# exit leaves its own values there.  They are left out of the hashes;
# tests/test_checkpoint.py shows the rest is the same in two runs.
HOST_TIME_BYTES = ((2104, 8), (3064, 24))
_PAGE = 4096
_PAGES_PER_BLOCK = BLOCK // _PAGE


@dataclass
class Checkpoint:
    instructions: int
    meta: dict                        # JSON-able state (see ``capture``)
    contexts: list[bytes]             # one Unicorn context per core
    blocks: dict[int, bytes] = field(default_factory=dict)  # block -> zlib data (changed blocks)
    digest: dict = field(default_factory=dict)  # {"cores": [hex], "devices": hex, "ram": hex}


# --- RAM --------------------------------------------------------------------------------

class RamTracker:
    """Finds the 64 KiB RAM blocks that changed since the last ``changes()``.

    Only blocks the host has ever backed with memory can differ from zero:
    on Linux ``/proc/self/pagemap`` says which pages of the RAM mapping are
    present or swapped, so a block none of whose pages is either is all
    zeros and is not even read.  The others are hashed (BLAKE2b, 128 bits)
    and compared with the previous digest.  Without pagemap every block is
    hashed.
    """

    def __init__(self, board: Board) -> None:
        self.ram = board.ram
        self.digests: dict[int, bytes] = {}  # block -> digest, for blocks not all zero
        self._addr = ctypes.addressof(board._ram_buf)
        self._pagemap = True

    def touched(self) -> list[int]:
        if self._pagemap:
            try:
                with open("/proc/self/pagemap", "rb") as f:
                    f.seek(self._addr // _PAGE * 8)
                    raw = f.read(RAM_MAPPED // _PAGE * 8)
            except OSError:
                self._pagemap = False
            else:
                return _touched_blocks(raw)
        return list(range(NBLOCKS))

    def changes(self) -> dict[int, bytes]:
        """Changed blocks -> their content now; the digests are updated."""
        ram, digests, out = self.ram, self.digests, {}
        for blk in sorted(set(self.touched()) | digests.keys()):
            data = ram[blk * BLOCK:(blk + 1) * BLOCK]
            d = hashlib.blake2b(data, digest_size=16).digest()
            if d != digests.get(blk, ZERO_DIGEST):
                out[blk] = bytes(data)
            if d == ZERO_DIGEST:
                digests.pop(blk, None)
            else:
                digests[blk] = d
        return out

    def ram_digest(self) -> str:
        return ram_digest(self.digests)


def _touched_blocks(raw: bytes) -> list[int]:
    entries = array.array("Q")
    entries.frombytes(raw)
    out = []
    step = 32 * _PAGES_PER_BLOCK  # look at 2 MiB at a time first
    zero = bytes(step * 8)
    for base in range(0, len(entries), step):
        if raw[base * 8:(base + step) * 8] == zero:
            continue
        for blk in range(base // _PAGES_PER_BLOCK, min((base + step) // _PAGES_PER_BLOCK, NBLOCKS)):
            if any(e >> 62 for e in entries[blk * _PAGES_PER_BLOCK:(blk + 1) * _PAGES_PER_BLOCK]):
                out.append(blk)
    return out


def ram_digest(digests: dict[int, bytes]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for blk in sorted(digests):
        h.update(blk.to_bytes(4, "little") + digests[blk])
    return h.hexdigest()


# --- what belongs to the board ----------------------------------------------------------------

def devices_of(board: Board) -> list[tuple[str, object]]:
    """Every device with state, in a fixed order: the board's, then each core's timer."""
    return list(board.devices.items()) + [(f"core{c.index}.timer", c.timer) for c in board.cores]


def _slots(obj) -> list[tuple[str, object]]:
    """(slot name, value) of the attributes of ``obj``, lists and tuples opened."""
    out = []
    for name, v in vars(obj).items():
        if isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                if isinstance(x, (list, tuple)):
                    out.extend((f"{name}[{i}][{j}]", y) for j, y in enumerate(x))
                else:
                    out.append((f"{name}[{i}]", x))
        else:
            out.append((name, v))
    return out


def irq_lines(board: Board) -> list[IrqLine]:
    seen, out = set(), []
    candidates = [line for c in board.cores for line in (c.irq_line, c.fiq_line)]
    for _name, dev in devices_of(board):
        candidates += [v for _s, v in _slots(dev) if isinstance(v, IrqLine)]
    for line in candidates:
        if id(line) not in seen:
            seen.add(id(line))
            out.append(line)
    return out


def _event_slots(board: Board) -> dict[str, tuple[object, str, Event]]:
    """Slot key -> (device, slot, event) for every Event a device holds."""
    out = {}
    for dname, dev in devices_of(board):
        for slot, v in _slots(dev):
            if isinstance(v, Event):
                out[f"{dname}.{slot}"] = (dev, slot, v)
    return out


# --- capture -----------------------------------------------------------------------------------

def capture(board: Board, tracker: RamTracker | None) -> Checkpoint:
    """The board now; ``tracker`` gives the RAM delta since its previous call
    (None: no RAM in the checkpoint)."""
    if board.running is not None:
        raise CheckpointError("a checkpoint is taken between runs, not inside one")
    clock = board.clock
    live = {id(ev) for ev in clock._queue if not ev.cancelled}
    events, owned = [], set()
    for key, (_dev, _slot, ev) in _event_slots(board).items():
        if id(ev) in live and id(ev) not in owned:
            owned.add(id(ev))
            events.append([key, ev.when, ev.seq])
    if len(owned) != len(live):
        raise CheckpointError(f"{len(live) - len(owned)} clock event(s) belong to no device slot")
    devices = {name: to_plain(dev.state()) for name, dev in devices_of(board)}
    cores = [_core_state(c) for c in board.cores]
    meta = {
        "instructions": board.instructions,
        "position": position(board),
        "idle_since": board._idle_since,
        "clock": {"base": clock.base, "seq": clock._seq, "events": sorted(events, key=lambda e: (e[1], e[2]))},
        "cores": cores,
        "devices": devices,
        "lines": [[line.name, line.level] for line in irq_lines(board)],
        "unmodelled": [to_plain(r) for r in board.bus.unmodelled],
    }
    if board.powered_off or board.power_cycles:
        meta["power"] = [board.powered_off, board.power_cycles]
    contexts = [c.save_context() for c in board.cores]
    cp = Checkpoint(board.instructions, meta, contexts)
    if tracker is not None:
        cp.blocks = {blk: zlib.compress(data, 1) for blk, data in tracker.changes().items()}
        cp.digest = digest(board, meta, contexts, tracker.ram_digest())
    return cp


def position(board: Board) -> list:
    """Where the board is in its schedule: two stops with the same instruction
    count can differ (after a slice of core i, or before the next one)."""
    return [board.instructions, board.clock.base, board._next_core, list(board._round_done), board._round_end]


def _core_state(c) -> dict:
    st = {
        "state": c.state, "fault": c.fault, "instructions": c.instructions,
        "hcr": c.hcr, "scr": c.scr,
        "impdef": [[list(enc), v] for enc, v in c.impdef.items()],
        "stuck": [list(c._stuck_sig) if c._stuck_sig is not None else None, c._stuck_n],
        "exceptions": [to_plain(r) for r in c.exceptions],
        "exception_counts": sorted([k, v] for k, v in c.exception_counts.items()),
        "cycle_counter": to_plain(c.cycle_counter.state()),
        "wake_steps": c.wake_steps, "wake_window_spent": c.wake_window_spent,
        "slice_left": c.slice_left,
    }
    shadow = [c._spsr[n] for n in (1, 2, 3)]
    if shadow != [c.regs.read_enc(SPSR_ENC[n]) for n in (1, 2, 3)]:   # SPSRs never written (Core.reset)
        st["spsr_shadow"] = shadow
    if c._deferred_write is not None:       # an MMU switch between its MSR and the next instruction
        st["deferred_write"] = [list(c._deferred_write[0]), c._deferred_write[1]]
    return st


def cpu_bytes(ctx: bytes) -> bytes:
    """The machine state in a saved context: the header and host-time fields left out."""
    body = bytearray(ctx)
    for off, n in HOST_TIME_BYTES:
        body[off:off + n] = bytes(n)
    return bytes(body[len(ctx) - int.from_bytes(ctx[:8], "little"):])


def digest(board: Board, meta: dict, contexts: list[bytes], ram: str) -> dict:
    """Hashes compared by ``replay --verify``: per core (CPU context and
    Python state), devices with clock and lines, RAM."""
    import json
    cores = []
    for c, ctx, st in zip(board.cores, contexts, meta["cores"]):
        h = hashlib.blake2b(digest_size=16)
        h.update(cpu_bytes(ctx))
        h.update(json.dumps(st, sort_keys=True).encode())
        cores.append(h.hexdigest())
    rest = {k: meta[k] for k in ("position", "clock", "devices", "lines", "power") if k in meta}
    dev = hashlib.blake2b(json.dumps(rest, sort_keys=True).encode(), digest_size=16).hexdigest()
    return {"cores": cores, "devices": dev, "ram": ram}


# --- restore -------------------------------------------------------------------------------------

def restore(board: Board, meta: dict, contexts: list[bytes], ram: dict[int, bytes]) -> None:
    """Put the board in the state of a checkpoint.  ``ram`` maps every block
    that is not all zeros to its content (the cumulative deltas)."""
    if board.running is not None:
        raise CheckpointError("cannot restore a checkpoint inside a run")
    if len(contexts) != len(board.cores) or len(meta["cores"]) != len(board.cores):
        raise CheckpointError("the checkpoint is of a board with another number of cores")
    clock = board.clock
    ck = meta["clock"]
    clock._base = ck["base"]
    clock._queue = []
    clock._seq = 0
    for name, dev in devices_of(board):
        if name not in meta["devices"]:
            raise CheckpointError(f"the checkpoint has no state for device {name}")
        dev.restore(_state_of(type(dev.state()), meta["devices"][name]))
    _restore_events(board, ck["events"])
    clock._seq = ck["seq"]
    lines = irq_lines(board)
    saved = meta["lines"]
    if [n for n, _ in saved] != [line.name for line in lines]:
        raise CheckpointError("the checkpoint's interrupt lines are not this board's")
    for line, (_name, level) in zip(lines, saved):
        line.level = bool(level)
    for c, ctx, st in zip(board.cores, contexts, meta["cores"]):
        c.restore_context(ctx)
        _restore_core(c, st)
    board.bus.unmodelled = [_state_of(UnmodelledRecord, r) for r in meta["unmodelled"]]
    board.bus._seen = {(r.address, r.write) for r in board.bus.unmodelled}
    instructions, _base, next_core, round_done, round_end = meta["position"]
    board.instructions = instructions
    board._next_core = next_core
    board._round_done = list(round_done)
    board._round_end = round_end
    board._idle_since = meta["idle_since"]
    power = meta.get("power", [False, 0])
    if not (isinstance(power, list) and len(power) == 2 and isinstance(power[0], bool)
            and isinstance(power[1], int) and power[1] >= 0):
        raise CheckpointError(f"the checkpoint's power state {power!r} is not [off, cycles]")
    board.powered_off, board.power_cycles = power
    board.posted.clear()
    board.unwatched = True          # a debugger reads its per-core state again
    _restore_ram(board, ram)
    for c in board.cores:
        c.flush_tb()


def _restore_events(board: Board, saved: list) -> None:
    clock = board.clock
    slots = _event_slots(board)
    want = {key: (when, seq) for key, when, seq in saved}
    queue = []
    for key, (dev, slot, ev) in slots.items():
        if ev.cancelled or key not in want:
            ev.cancelled = True
            continue
        ev.when, ev.seq = want.pop(key)
        queue.append(ev)
    if want:
        raise CheckpointError(f"no device re-created the clock event(s) {', '.join(sorted(want))}")
    heapq.heapify(queue)
    clock._queue = queue


def _restore_core(c, st: dict) -> None:
    c.state = st["state"]
    c.fault = st["fault"]
    c.instructions = st["instructions"]
    c.hcr = st["hcr"]
    c.scr = st["scr"]
    c.impdef = {tuple(enc): v for enc, v in st["impdef"]}
    sig, n = st["stuck"]
    c._stuck_sig = tuple(sig) if sig is not None else None
    c._stuck_n = n
    c.exceptions = deque((_state_of(ExceptionRecord, r) for r in st["exceptions"]), maxlen=c.exceptions.maxlen)
    c.exception_counts = Counter({k: v for k, v in st["exception_counts"]})
    c.cycle_counter.restore(_state_of(CycleCounterState, st["cycle_counter"]))
    c.wake_steps = st["wake_steps"]
    c.slice_left = st.get("slice_left", 0)      # board model 5
    c.wake_window_spent = st["wake_window_spent"]
    dw = st.get("deferred_write")
    c._deferred_write = (tuple(dw[0]), dw[1]) if dw is not None else None
    c.refresh_eret_watch()
    if "spsr_shadow" in st:
        for n, v in zip((1, 2, 3), st["spsr_shadow"]):
            c._spsr[n] = v
        c._update_eret_watch()
    carriers = c.carriers
    carriers.arrival = None
    carriers.at_exit = False
    carriers.hit = None


def _restore_ram(board: Board, ram: dict[int, bytes]) -> None:
    mem = board.ram
    tracker = RamTracker(board)
    for blk in tracker.touched():
        if blk not in ram:
            mem[blk * BLOCK:(blk + 1) * BLOCK] = ZERO_BLOCK
    for blk, data in ram.items():
        mem[blk * BLOCK:(blk + 1) * BLOCK] = data
