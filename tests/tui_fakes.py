"""Fixed snapshots and a scripted runner, so the TUI can be tested without emulation."""

from __future__ import annotations

import queue
from dataclasses import replace

import vizor.driver.runner as R
from vizor.machine.arch.exceptions import ExceptionRecord
from vizor.machine.arch.mmu import TranslationRegs
from vizor.machine.devices.arm_local import ArmLocalState
from vizor.machine.devices.interrupt_controller import InterruptControllerState
from vizor.machine.devices.system_timer import SystemTimerState
from vizor.machine.inspect.snapshot import (
    SYSREG_NAMES,
    TIMER_NAMES,
    BoardState,
    CoreState,
    InterruptsState,
    UartState,
    WalkState,
)
from vizor.machine.inspect.symbols import Symbols

SYMBOLS = Symbols.from_list([(0x80000, 0x100, "_start"), (0x81000, 0x200, "guest_main"),
                             (0x82000, 0x80, "el2_vectors")])
# mov x0, #1; add x1, x1, #1; hvc #0; eret ; then nops
CODE = [0xD2800020, 0x91000421, 0xD4000002, 0xD69F03E0] + [0xD503201F] * 28


def core(index: int, *, pc: int = 0x80000, pstate: int = 0x3C9, state: str = "running",
         vmid=None, x=None, hcr: int = 0x80000000, vttbr: int = 0, **regs) -> CoreState:
    sysregs = {n: 0 for n in SYSREG_NAMES}
    sysregs.update(HCR_EL2=hcr, VTTBR_EL2=vttbr, VMPIDR_EL2=0x80000000 | index,
                   SCTLR_EL1=0xC50838, SCR_EL3=0x5B1)          # the firmware's: Non-secure below EL3
    sysregs.update(regs)
    timers = {n: 0 for n in TIMER_NAMES}
    timers["CNTFRQ_EL0"] = 19_200_000
    start = (pc & ~3) - 48
    code = tuple((start + 4 * i, CODE[i % len(CODE)]) for i in range(32))
    return CoreState(index=index, state=state, fault=None, pc=pc, sp=0x90000 + 0x1000 * index,
                     x=tuple(x or [0] * 31), pstate=pstate, vmid=vmid, instructions=1000 * index,
                     mpidr=0x80000000 | index, sysregs=sysregs, timers=timers, irq_line=False,
                     fiq_line=False, code=code, exceptions_taken=0)


def interrupts(mailbox=0, irq0=0) -> InterruptsState:
    local = ArmLocalState(0, 0, 0, 0, 0, 0, False, 0, (0, 0, 0, 0), (0xF, 0, 0, 0),
                          ((mailbox, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)), 0,
                          tuple([False] * 22))
    return InterruptsState(local, (irq0, 0, 0, 0), (0, 0, 0, 0),
                           InterruptControllerState(0, 0, 0, 0, 0), 0, 0,
                           SystemTimerState(0, (0, 0, 0, 0)), 1234)


def board(serial=1, stop_serial=0, *, running=False, reason="paused at reset", cores=None,
          events=(), uart=b"", mailbox=0, irq0=0) -> BoardState:
    cores = cores or (core(0), core(1, pc=0x300, state="parked"), core(2, pc=0x300, state="parked"),
                      core(3, pc=0x300, state="parked"))
    return BoardState(serial=serial, stop_serial=stop_serial, running=running, reason=reason,
                      instructions=sum(c.instructions for c in cores), cycles=123_456,
                      cores=tuple(cores), interrupts=interrupts(mailbox, irq0),
                      uarts=(UartState("pl011", uart, len(uart), 0), UartState("mini", b"", 0, 0)),
                      events=tuple(events), image="fake.elf")


def guest_board(**kw) -> BoardState:
    """Core 0 running VMID 5 at EL1h, core 1 in the hypervisor with VMID 7 loaded."""
    cores = (core(0, pc=0x81004, pstate=0x3C5, vmid=5, hcr=0x80000001, vttbr=5 << 48 | 0x100000),
             core(1, pc=0x82000, pstate=0x3C9, hcr=0x80000001, vttbr=7 << 48 | 0x200000),
             core(2, pc=0x300, state="parked"), core(3, pc=0x300, state="wfi"))
    events = (ExceptionRecord(0, "sync", 1, 2, 0x16, 0x5A000000, 0x81008, None, 5, 1000),
              ExceptionRecord(0, "irq", 1, 2, 0, 0, 0x8100C, None, 7, 2000))
    return board(cores=cores, events=events, **kw)


def secure_board(**kw) -> BoardState:
    """Core 0 in a Secure-EL1 payload, core 1 in the monitor at EL3, core 2 in the
    Non-secure kernel at EL1, core 3 in the hypervisor at EL2."""
    cores = (core(0, pc=0x81004, pstate=0x3C5, SCR_EL3=0x5B0),
             core(1, pc=0x82000, pstate=0x3CD, SCR_EL3=0x5B0),
             core(2, pc=0x81000, pstate=0x3C5), core(3, pc=0x82000, pstate=0x3C9))
    events = (ExceptionRecord(1, "sync", 2, 3, 0x17, 0x5E000000, 0x80100, None, None, 1000),)
    return board(cores=cores, events=events, **kw)


def secure_walk(cmd) -> WalkState:
    """A real EL3 walk: L1 table (NSTable=0) -> L2 table with NSTable=1 -> L3 page, and a
    Secure 2 MiB block at L2[1] of the first L2 table."""
    from vizor.machine.arch.mmu import walk_stage1
    from vizor.machine.arch.security import walk_security
    mem = {0x1000: 0x2000 | 0b11, 0x2000: 1 << 63 | 0x3000 | 0b11,
           0x3000 + 8 * 0x10: 0x200000 | 1 << 10 | 1 << 5 | 0b11,
           0x2000 + 8: 0x400000 | 1 << 10 | 0b01}
    regs = TranslationRegs(sctlr_el3=1, tcr_el3=32 | (1 << 8), ttbr0_el3=0x1000, mair_el3=0xFF)
    walk = walk_stage1(cmd.va, regs, lambda pa, size: mem.get(pa, 0), "el3", "r", 3)
    return WalkState(cmd.core, cmd.va, "el3", 3, regs, walk, walk, security=walk_security(walk, True))


class FakeRunner:
    """Records the commands; answers them with the scripted snapshots."""

    def __init__(self, states, walk=None) -> None:
        self.states = list(states)
        self.commands: list = []
        self.publish = lambda obj: None
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self.walk = walk

    def send(self, command) -> None:
        self.commands.append(command)
        self._q.put(command)

    def serve(self, start_running: bool = False) -> None:
        state = self.states.pop(0)
        self.publish(state)
        while True:
            cmd = self._q.get()
            if isinstance(cmd, R.Quit):
                return
            if isinstance(cmd, (R.Run, R.Pause, R.Step)):
                if self.states:
                    state = self.states.pop(0)
                elif isinstance(cmd, R.Run):
                    state = replace(state, running=True, serial=state.serial + 1)
                else:
                    state = replace(state, running=False, serial=state.serial + 1,
                                    stop_serial=state.stop_serial + 1, reason="paused")
                self.publish(state)
            elif isinstance(cmd, R.WalkVA) and self.walk is not None:
                self.publish(self.walk(cmd))

    def commands_of(self, kind):
        return [c for c in self.commands if isinstance(c, kind)]


def no_walk(cmd) -> WalkState:
    return WalkState(cmd.core, cmd.va, "el2", 2, TranslationRegs(), None, None, "scripted: no tables")


def sync(fn):
    """Run an async Pilot test with asyncio.run (no pytest async plugin needed)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))
    return wrapper


def table_walk(cmd) -> WalkState:
    """A real EL2 stage-1 walk over two tables in a scripted memory: L1 table -> L2 block."""
    from vizor.machine.arch.mmu import BusError, walk_stage1
    mem = {0x1000: 0x2000 | 0b11,                      # L1[0]: table at 0x2000
           0x2000 + 8 * 0: 0x0 | (1 << 10) | 0b01,     # L2[0]: 2 MiB block at 0, AF
           0x2000 + 8 * 1: 0}                          # L2[1]: invalid

    def read(pa: int, size: int) -> int:
        if pa >= 0x3F000000:
            raise BusError(pa)
        return mem.get(pa, 0)
    regs = TranslationRegs(sctlr_el2=1, tcr_el2=32 | (1 << 8), ttbr0_el2=0x1000, mair_el2=0xFF)
    walk = walk_stage1(cmd.va, regs, read, "el2", "r", 2)
    return WalkState(cmd.core, cmd.va, "el2", 2, regs, walk, walk)
