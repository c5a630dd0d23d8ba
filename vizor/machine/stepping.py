"""Stepping beyond one instruction: over a call, out of a function, within a VM.

Methods of ``Debugger`` (bound in debug.py), kept apart to keep each file
short.  Each builds on temporary stop conditions that are removed when the
step ends, however it ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .board import StopReason

if TYPE_CHECKING:
    from .debug import Debugger

BL_MASK, BL = 0xFC000000, 0x94000000
BLR_MASK, BLR = 0xFFFFFC1F, 0xD63F0000


def is_call(word: int | None) -> bool:
    return word is not None and ((word & BL_MASK) == BL or (word & BLR_MASK) == BLR)


def _with_temporaries(dbg: "Debugger", specs, run: Callable[[], StopReason]) -> StopReason:
    made = []
    try:
        for address, kwargs in specs:
            made.append(dbg.add_breakpoint(address, temporary=True, **kwargs))
        reason = run()
    finally:
        for bp in made:
            if bp.id in dbg._conds:
                dbg.remove(bp.id)
    if reason.kind == "breakpoint" and reason.breakpoint in {bp.id for bp in made}:
        return StopReason("step", f"core {reason.core} returned to {dbg.board.cores[reason.core].pc:#x}",
                          core=reason.core)
    return reason


def _here(dbg: "Debugger", index: int) -> dict:
    """Filters that pin a temporary breakpoint to this core, EL and VM."""
    core = dbg.board.cores[index]
    el = core.el
    return {"core": index, "el": el, "vmid": core.vmid(el)}


def step_over(self: "Debugger", core: int, max_insns: int | None = None,
              stop: Callable[[], str | None] | None = None) -> StopReason:
    """One instruction, but a BL/BLR runs to its return (same core, EL, VM
    and stack pointer, so recursion does not stop early)."""
    c = self.board.cores[core]
    pc = c.pc
    if not is_call(c.read_insn(pc)):
        return self.step(core, max_insns=max_insns, stop=stop)
    sp = c.regs.read("SP")
    spec = [(pc + 4, dict(_here(self, core), condition=f"sp == {sp:#x}"))]
    return _with_temporaries(self, spec, lambda: self.run(max_insns=max_insns, stop=stop))


def step_out(self: "Debugger", core: int, max_insns: int | None = None,
             stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until the current function returns to its caller.

    The return address is X30 in a leaf function (or before the prologue
    saved it) and the frame record's saved LR at [X29 + 8] after it; both are
    armed, each requiring SP at or above the current one (same core, EL, VM).
    """
    c = self.board.cores[core]
    sp = c.regs.read("SP")
    targets = {c.regs.x(30)}
    fp = c.regs.x(29)
    if fp >= sp:
        saved = c.read_va(fp + 8, 8)
        if saved:
            targets.add(saved)
    targets.discard(0)
    if not targets:
        raise ValueError(f"core {core}: no return address (X30 and the frame record are 0)")
    here = _here(self, core)
    spec = [(t, dict(here, condition=f"sp >= {sp:#x}")) for t in sorted(targets)]
    return _with_temporaries(self, spec, lambda: self.run(max_insns=max_insns, stop=stop))


def step_in_vm(self: "Debugger", core: int, max_insns: int | None = None,
               stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until core ``core`` executes its next instruction in the VM it is in
    now, stepping over whatever the hypervisor (or another VM) runs between."""
    from .debug import _Goal
    c = self.board.cores[core]
    vmid = c.vmid()
    if vmid is None:
        raise ValueError(f"core {core} is not running a VM (EL{c.el}"
                         f"{', stage 2 off' if c.el < 2 else ''})")
    reason = self.step(core, max_insns=max_insns, stop=stop)
    if reason.kind != "step" or c.vmid() == vmid:
        return reason
    goal = _Goal("entry", vmid, core)
    self._goals.append(goal)
    try:
        self._install_goal_watch()
        self._arm_if_loaded(c)
        reason = self.run(max_insns=max_insns, stop=stop)
    finally:
        self._goals.remove(goal)
        self._install()
    if reason.kind == "vm-entry" and reason.core == core:
        return StopReason("step", f"core {core} back in vmid={vmid} at {c.pc:#x}", core=core)
    return reason


def run_until_vmid(self: "Debugger", vmid: int, max_insns: int | None = None,
                   stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until a core is scheduled into VMID ``vmid`` (it loads VTTBR_EL2
    with that VMID and then executes its first instruction in the VM)."""
    from .debug import _Goal
    if not 0 <= vmid <= 0xFF:
        raise ValueError(f"VMID {vmid} is out of range (0-255)")
    goal = _Goal("scheduled", vmid, None)
    self._goals.append(goal)
    try:
        self._install_goal_watch()
        reason = self.run(max_insns=max_insns, stop=stop)
    finally:
        self._goals.remove(goal)
        self._install()
    return reason
