"""Stepping beyond one instruction: over a call, out of a function, within a VM.

Methods of ``Debugger`` (the ``Stepping`` mixin at the end), kept apart to keep each file
short.  Each is a ``StepRun``: a run like ``Board.run(max_insns=, stop=)``
that may be cut (by a count, a stop callback) and called again to go on, so
a Recorder may checkpoint inside it and a Replay may deliver recorded inputs
inside it.  It builds on temporary stop conditions, armed when its run
starts and removed when the StepRun is closed, however it ends.
"""

from __future__ import annotations

from typing import Callable, Optional

from vizor.machine.board.board import StopReason
from vizor.machine.debug.stops import Goal

BL_MASK, BL = 0xFC000000, 0x94000000
BLR_MASK, BLR = 0xFFFFFC1F, 0xD63F0000


def is_call(word: int | None) -> bool:
    return word is not None and ((word & BL_MASK) == BL or (word & BLR_MASK) == BLR)


def _here(dbg: "Stepping", index: int) -> dict:
    """Filters that pin a temporary breakpoint to this core, EL and VM."""
    core = dbg.board.cores[index]
    el = core.el
    return {"core": index, "el": el, "vmid": core.vmid(el)}


class StepRun:
    """``how``: "over" (one instruction, a BL/BLR run to its return on the same
    core, EL, VM and stack pointer), "out" (to the caller), "vm" (the core's
    next instruction in the VM it is in now) or "until" (until a core is
    scheduled into VMID ``vmid``).  Use it as a context manager; call it like
    ``Board.run`` until it returns something other than a cut (``max_insns``,
    a stop callback's reason, ``idle``), which is how the step ended."""

    def __init__(self, dbg: "Stepping", how: str, core: Optional[int] = None,
                 vmid: Optional[int] = None) -> None:
        self.dbg, self.how, self.core = dbg, how, core
        self._specs: list = []            # temporary breakpoints of the run phase
        self._made: list = []
        self._goal = None
        self._armed = False
        self._step_to: Optional[int] = None   # a single step of ``core`` to this count first
        self.vmid = vmid
        board = dbg.board
        if how == "until":
            if vmid is None or not 0 <= vmid <= 0xFF:
                raise ValueError(f"VMID {vmid} is out of range (0-255)")
            return
        c = board.cores[core]
        if how == "over":
            pc = c.pc
            if not is_call(c.read_insn(pc)):
                self._step_to = c.instructions + 1
            else:
                sp = c.regs.read("SP")
                self._specs = [(pc + 4, dict(_here(dbg, core), condition=f"sp == {sp:#x}"))]
        elif how == "out":
            # The return address is X30 in a leaf function (or before the prologue
            # saved it) and the frame record's saved LR at [X29 + 8] after it; both
            # are armed, each requiring SP at or above the current one.
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
            here = _here(dbg, core)
            self._specs = [(t, dict(here, condition=f"sp >= {sp:#x}")) for t in sorted(targets)]
        elif how == "vm":
            self.vmid = c.vmid()
            if self.vmid is None:
                raise ValueError(f"core {core} is not running a VM (EL{c.el}"
                                 f"{', stage 2 off' if c.el < 2 else ''})")
            self._step_to = c.instructions + 1
        else:
            raise ValueError(f"unknown step {how!r}")

    def __enter__(self) -> "StepRun":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        dbg = self.dbg
        for bp in self._made:
            if bp.id in dbg._conds:
                dbg.remove(bp.id)
        self._made.clear()
        if self._goal is not None:
            dbg._goals.remove(self._goal)
            self._goal = None
            dbg._install()

    def _arm(self) -> None:
        self._armed = True
        dbg = self.dbg
        for address, kwargs in self._specs:
            self._made.append(dbg.add_breakpoint(address, temporary=True, **kwargs))
        if self.how in ("vm", "until"):
            self._goal = (Goal("entry", self.vmid, self.core) if self.how == "vm"
                          else Goal("scheduled", self.vmid, None))
            dbg._goals.append(self._goal)
            dbg._install_goal_watch()
            if self.how == "vm":
                dbg._arm_if_loaded(dbg.board.cores[self.core])

    def __call__(self, max_insns: Optional[int] = None, stop: Callable[[], str | None] | None = None,
                 **_kw) -> StopReason:
        dbg, board = self.dbg, self.dbg.board
        if self._step_to is not None:
            c = board.cores[self.core]
            start = board.instructions
            reason = dbg.step(self.core, count=self._step_to - c.instructions, max_insns=max_insns, stop=stop)
            if reason.kind != "step":
                return reason             # cut (call again) or stopped by something else
            self._step_to = None
            if self.how == "over" or c.vmid() == self.vmid:
                return reason
            if max_insns is not None:     # it left the VM: run until it is back in it
                max_insns -= board.instructions - start
                if max_insns <= 0:
                    return StopReason("max_insns", "the step's count")
        if not self._armed:
            self._arm()
        reason = dbg.run(max_insns=max_insns, stop=stop)
        if reason.kind == "breakpoint" and reason.breakpoint in {bp.id for bp in self._made}:
            return StopReason("step", f"core {reason.core} returned to {board.cores[reason.core].pc:#x}",
                              core=reason.core)
        if self.how == "vm" and reason.kind == "vm-entry" and reason.core == self.core:
            return StopReason("step", f"core {self.core} back in vmid={self.vmid} at "
                                      f"{board.cores[self.core].pc:#x}", core=self.core)
        return reason


def _once(dbg: "Stepping", how: str, core=None, vmid=None, max_insns=None, stop=None) -> StopReason:
    with StepRun(dbg, how, core, vmid) as run:
        return run(max_insns=max_insns, stop=stop)


def step_over(self: "Stepping", core: int, max_insns: int | None = None,
              stop: Callable[[], str | None] | None = None) -> StopReason:
    """One instruction, but a BL/BLR runs to its return (same core, EL, VM
    and stack pointer, so recursion does not stop early)."""
    return _once(self, "over", core, max_insns=max_insns, stop=stop)


def step_out(self: "Stepping", core: int, max_insns: int | None = None,
             stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until the current function returns to its caller (X30, or the frame
    record's saved LR; SP at or above the current one; same core, EL, VM)."""
    return _once(self, "out", core, max_insns=max_insns, stop=stop)


def step_in_vm(self: "Stepping", core: int, max_insns: int | None = None,
               stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until core ``core`` executes its next instruction in the VM it is in
    now, stepping over whatever the hypervisor (or another VM) runs between."""
    return _once(self, "vm", core, max_insns=max_insns, stop=stop)


def run_until_vmid(self: "Stepping", vmid: int, max_insns: int | None = None,
                   stop: Callable[[], str | None] | None = None) -> StopReason:
    """Run until a core is scheduled into VMID ``vmid`` (it loads VTTBR_EL2
    with that VMID and then executes its first instruction in the VM)."""
    return _once(self, "until", vmid=vmid, max_insns=max_insns, stop=stop)


class Stepping:
    """The stepping methods of ``Debugger`` (engine.py), a mixin."""

    step_over = step_over
    step_out = step_out
    step_in_vm = step_in_vm
    run_until_vmid = run_until_vmid
