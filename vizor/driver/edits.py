"""Register and memory edits from the TUI: ``= x5 = 0x10``, ``pc = main``, ``w[0x80000] = 1``.

``parse_edit`` (the UI's side) turns the text typed at the ``=`` prompt into
an ``EditRegister`` or ``EditMemory`` command for the selected core;
``apply_edit`` (the machine thread's side, called by the runner) makes it.

- ``REG = VALUE``: X0-X30, SP, PC, SP_ELn, ELR_ELn, SPSR_ELn, or any system
  register vizor names (HCR_EL2 and SCR_EL3 go through vizor's shadows; a
  system register write drops the core's TLB, as the guest's own would need
  a TLBI).  PSTATE is not editable (QEMU would not recompute its EL).
- ``b[ADDR] = VALUE`` / ``h[…]`` / ``w[…]`` / ``x[…]``: 1, 2, 4 or 8 bytes,
  little-endian, at the VA ADDR as the selected core's current regime
  translates it (with the MMU off, the PA); the bytes must be RAM.
VALUE and ADDR are numbers, symbols or ``symbol+offset``.

While recording, an edit is an input of the session (``Recorder.note_*``)
and is taken only at an instruction-count boundary (at reset, or where a run
of N instructions ended): a recording delivers inputs only where a replay
stands in exactly the same state, and an edit delivered one instruction
late would not be the edit the user made.  A replay refuses edits (it would
stop being the recording).  This module uses no textual and no rich.
"""

from __future__ import annotations

import re

from vizor.driver.commands import EditMemory, EditRegister
from vizor.machine.board.board import RAM_MAPPED as RAM_TOP
from vizor.machine.cpu.regs import DIRECT, ENC

SIZES = {"b": 1, "h": 2, "w": 4, "x": 8}
_MEM = re.compile(r"^([bhwx])\[(.+)\]$", re.IGNORECASE)
_XREG = re.compile(r"^[xX](\d+)$")


class EditError(ValueError):
    """An edit refused: the message says why, in one line."""


def register_name(text: str) -> str:
    name = text.strip().upper()
    m = _XREG.match(name)
    if m and 0 <= int(m.group(1)) <= 30:
        return f"X{int(m.group(1))}"
    if name in ("XZR", "WZR"):
        raise EditError(f"{name} is the zero register: it cannot be set")
    if name in ("PSTATE", "NZCV", "CPSR"):
        raise EditError("PSTATE cannot be edited (QEMU would not recompute the EL from it)")
    if name in DIRECT or name in ENC:
        return name
    raise EditError(f"unknown register {text.strip()!r} (X0-X30, SP, PC, SP_ELn, ELR_ELn, SPSR_ELn, "
                    f"or a system register by name)")


def parse_edit(text: str, core: int, value_of) -> EditRegister | EditMemory:
    """``value_of(text)`` turns a number or symbol into an int (raises ValueError)."""
    left, eq, right = text.partition("=")
    if not eq or not left.strip() or not right.strip():
        raise EditError("edit: REG = VALUE or b|h|w|x[ADDR] = VALUE")
    try:
        value = value_of(right)
    except ValueError as e:
        raise EditError(str(e)) from None
    m = _MEM.match(left.strip())
    if m:
        size = SIZES[m.group(1).lower()]
        try:
            va = value_of(m.group(2))
        except ValueError as e:
            raise EditError(str(e)) from None
        if not 0 <= value < 1 << (8 * size) and not -(1 << (8 * size - 1)) <= value < 0:
            raise EditError(f"{value:#x} does not fit in {size} byte{'s' if size > 1 else ''}")
        return EditMemory(core, va, size, value & ((1 << (8 * size)) - 1))
    if not -(1 << 63) <= value < 1 << 64:
        raise EditError(f"{value:#x} does not fit in 64 bits")
    return EditRegister(core, register_name(left), value & 0xFFFFFFFFFFFFFFFF)


def apply_edit(runner, cmd) -> str:
    """Make ``cmd`` on the runner's board (or note it in the recording); the
    notice to show.  EditError: refused."""
    if not getattr(runner, "editable", True):
        raise EditError("a replay cannot be edited: it would no longer be the recording")
    board = runner.board
    core = board.cores[cmd.core]
    rec = runner.recorder
    if rec is not None and (rec.pending_inputs or not rec.at_count_boundary):
        raise EditError("recording: edits are taken only where a run of N instructions ended or at "
                        "reset, not at this stop: + runs N instructions (R stops the recording)")
    if isinstance(cmd, EditRegister):
        old = core.regs.read(cmd.name)
        if rec is not None:
            rec.note_register(cmd.core, cmd.name, cmd.value)
        else:
            from vizor.machine.session.recorder import apply_register
            apply_register(board, cmd.core, cmd.name, cmd.value)
        if cmd.name not in DIRECT:          # a system register: tables, TCR, SCTLR, HCR...
            core.flush_tlb()
        return f"core {cmd.core}: {cmd.name} {old:#x} -> {cmd.value:#x}"
    pa = _pa_of(runner, cmd.core, cmd.va, cmd.size)
    data = cmd.value.to_bytes(cmd.size, "little")
    old = int.from_bytes(board.read_ram(pa, cmd.size), "little")
    if rec is not None:
        rec.note_memory(pa, data)
    else:
        board.write_ram(pa, data)
    where = f"VA {cmd.va:#x} (PA {pa:#x})" if pa != cmd.va else f"PA {pa:#x}"
    return f"{where}: {old:#x} -> {cmd.value:#x} ({cmd.size} byte{'s' if cmd.size > 1 else ''})"


def _pa_of(runner, core: int, va: int, size: int) -> int:
    from vizor.machine.inspect.snapshot import walk_state
    pas = []
    for a in (va, va + size - 1):
        w = walk_state(runner.board.cores[core], a)
        if w.walk is None or w.walk.fault is not None:
            why = w.error or "not mapped" if w.walk is None else w.walk.fault
            raise EditError(f"VA {a:#x} does not translate on core {core}: {why}")
        pas.append(w.walk.output)
    if pas[1] - pas[0] != size - 1:
        raise EditError(f"VA {va:#x}+{size} crosses into a page mapped elsewhere")
    if not (0 <= pas[0] and pas[1] < RAM_TOP):
        raise EditError(f"PA {pas[0]:#x} is not RAM (edits write RAM only, not device registers)")
    return pas[0]
