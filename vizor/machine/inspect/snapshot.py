"""Immutable snapshots of a board, built in the thread that owns it, for the UI.

Everything here is a frozen dataclass (names end in ``State``) holding plain
ints, strings and tuples, or the frozen records the machine already produces
(``ExceptionRecord``, the walkers' ``Walk``, the devices' ``state()``).  A
snapshot is taken between slices (the board is not running), so it is exact
to the instruction; the UI may keep it as long as it likes.

The pure builders (``board_state``, ``walk_state``, ``code_state``) read the
board but never change it: taking a snapshot does not alter the run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Mapping, Optional

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.mmu import (
    TranslationRegs,
    UnsupportedGranule,
    Walk,
    translate_el10,
    walk_stage1,
    walk_stage2,
)
from vizor.machine.arch.security import (
    WalkSecurity,
    WorldSwitch,
    is_secure,
    walk_security,
    world_label,
)
from vizor.machine.arch.sysregs import encoding_of
from vizor.machine.cpu.faults import translation_regs
from vizor.machine.devices.arm_local import ArmLocalState
from vizor.machine.devices.framebuffer import FramebufferConfig, sample
from vizor.machine.devices.interrupt_controller import InterruptControllerState
from vizor.machine.devices.system_timer import SystemTimerState

# System registers the panes show, read from the CPU (regs.py names).
SYSREG_NAMES = (
    "SCTLR_EL1", "SCTLR_EL2", "SCTLR_EL3", "HCR_EL2", "SCR_EL3", "VTTBR_EL2", "VTCR_EL2",
    "TCR_EL1", "TCR_EL2", "TTBR0_EL1", "TTBR1_EL1", "TTBR0_EL2", "MAIR_EL1", "MAIR_EL2",
    "VBAR_EL1", "VBAR_EL2", "VBAR_EL3", "ELR_EL1", "ELR_EL2", "ELR_EL3",
    "SPSR_EL1", "SPSR_EL2", "SPSR_EL3", "ESR_EL1", "ESR_EL2", "ESR_EL3",
    "FAR_EL1", "FAR_EL2", "FAR_EL3", "HPFAR_EL2", "VMPIDR_EL2", "VPIDR_EL2",
    "SP_EL0", "SP_EL1", "SP_EL2", "SP_EL3",
)
# Generic timer registers, served from virtual time by the core's GenericTimer.
TIMER_NAMES = (
    "CNTFRQ_EL0", "CNTPCT_EL0", "CNTVCT_EL0", "CNTVOFF_EL2", "CNTHCTL_EL2", "CNTKCTL_EL1",
    "CNTP_CTL_EL0", "CNTP_CVAL_EL0", "CNTP_TVAL_EL0", "CNTV_CTL_EL0", "CNTV_CVAL_EL0",
    "CNTV_TVAL_EL0", "CNTHP_CTL_EL2", "CNTHP_CVAL_EL2", "CNTHP_TVAL_EL2",
    "CNTPS_CTL_EL1", "CNTPS_CVAL_EL1", "CNTPS_TVAL_EL1",
)
CODE_BEFORE, CODE_AFTER = 12, 20   # instruction words around the PC in each CoreState
EVENTS_KEPT = 200                  # exceptions in a BoardState, newest last
UART_KEPT = 32 * 1024              # bytes of each UART's output kept in a BoardState
FB_SAMPLE = (200, 150)             # at most this many framebuffer pixels in a BoardState


@dataclass(frozen=True)
class CoreState:
    index: int
    state: str                     # "running" | "wfi" | "parked" | "halted"
    fault: Optional[str]
    pc: int
    sp: int
    x: tuple[int, ...]             # X0..X30
    pstate: int
    vmid: Optional[int]            # the VMID it runs (EL1/EL0 with stage 2 on), else None
    instructions: int
    mpidr: int                     # the real MPIDR (what EL2/EL3 read)
    sysregs: Mapping[str, int]
    timers: Mapping[str, int]
    irq_line: bool
    fiq_line: bool
    code: tuple[tuple[int, Optional[int]], ...]   # (VA, word or None if unmapped)
    exceptions_taken: int

    @property
    def el(self) -> int:
        return (self.pstate >> 2) & 3

    @property
    def spsel(self) -> int:
        return self.pstate & 1

    @property
    def secure(self) -> bool:
        """Secure state: EL3, or below it with SCR_EL3.NS = 0."""
        return is_secure(self.el, self.sysregs["SCR_EL3"])

    @property
    def world(self) -> str:
        """``EL3``, ``EL2 (NS)``, ``S-EL1``, ``NS-EL1``, ``S-EL0``, ``NS-EL0``."""
        return world_label(self.el, self.sysregs["SCR_EL3"])

    def reg(self, name: str) -> int:
        """A register by name: X0..X30, SP, PC, PSTATE, a system or timer register."""
        if name.startswith("X") and name[1:].isdigit():
            return self.x[int(name[1:])]
        if name in ("SP", "PC", "PSTATE"):
            return {"SP": self.sp, "PC": self.pc, "PSTATE": self.pstate}[name]
        if name == "MPIDR_EL1":
            return self.mpidr
        return self.sysregs[name] if name in self.sysregs else self.timers[name]


@dataclass(frozen=True)
class InterruptsState:
    arm_local: ArmLocalState
    irq_source: tuple[int, ...]    # per core, register 0x60 + 4n
    fiq_source: tuple[int, ...]    # per core, register 0x70 + 4n
    controller: InterruptControllerState
    basic_pending: int
    gpu_pending: int               # 64 bits: pending 1 | pending 2 << 32
    system_timer: SystemTimerState
    system_timer_count: int        # the 1 MHz counter now


@dataclass(frozen=True)
class UartState:
    name: str                      # "pl011" | "mini"
    text: bytes                    # the last UART_KEPT bytes it sent
    total: int                     # bytes it ever sent (to append only what is new)
    rx_waiting: int                # bytes typed and not yet read by the guest (FIFO + queue)


@dataclass(frozen=True)
class FramebufferState:
    """What the framebuffer shows, scaled down to at most FB_SAMPLE pixels."""

    config: FramebufferConfig      # geometry, depth, pixel order, base (the real size)
    width: int                     # the sampled picture
    height: int
    rgb: bytes                     # width * height * 3 bytes, rows top to bottom
    crc: int                       # CRC-32 of the visible buffer bytes (changes with the picture)


@dataclass(frozen=True)
class BreakpointState:
    id: int
    address: int
    vmid: Optional[int]
    el: Optional[int]
    core: Optional[int]
    enabled: bool
    hits: int


@dataclass(frozen=True)
class BoardState:
    serial: int                    # increases with every snapshot
    stop_serial: int               # increases with every stop (pause, step, breakpoint)
    running: bool
    reason: str                    # why the board last stopped ("" while running)
    instructions: int
    cycles: int                    # virtual time, 1.2 GHz cycles
    cores: tuple[CoreState, ...]
    interrupts: InterruptsState
    uarts: tuple[UartState, ...]
    events: tuple[X.ExceptionRecord, ...]
    breakpoints: tuple[BreakpointState, ...] = ()
    image: str = ""
    framebuffer: Optional[FramebufferState] = None   # None: no buffer allocated
    world_switches: tuple[WorldSwitch, ...] = ()     # oldest first (debug/worlds.py)

    def uart(self, name: str) -> UartState:
        for u in self.uarts:
            if u.name == name:
                return u
        raise KeyError(name)

    @property
    def known_vmids(self) -> tuple[int, ...]:
        """VMIDs the board has shown: loaded with stage 2 on, or in an exception record."""
        seen = {c.sysregs["VTTBR_EL2"] >> 48 & 0xFF for c in self.cores
                if c.sysregs["HCR_EL2"] & X.HCR_VM}
        seen |= {e.vmid for e in self.events if e.vmid is not None}
        return tuple(sorted(seen))


@dataclass(frozen=True)
class WalkState:
    """A translation of ``va`` on one core, as the walkers saw it."""

    core: int
    va: int
    regime: str                    # "el10" | "sel10" (Secure EL1&0) | "el2" | "el3" | "s2"
    el: int
    regs: TranslationRegs
    walk: Optional[Walk]           # the whole translation (None: could not walk)
    stage1: Optional[Walk]         # its stage-1 part (None for "s2")
    error: str = ""
    security: Optional[WalkSecurity] = None   # Secure/Non-secure lookups and output of stage 1


@dataclass(frozen=True)
class CodeState:
    core: int
    address: int
    words: tuple[tuple[int, Optional[int]], ...]


# --- builders (run in the machine thread) ------------------------------------------

def code_window(core, center: int, before: int = CODE_BEFORE, after: int = CODE_AFTER):
    start = (center & ~3) - 4 * before
    return tuple((va, core.read_insn(va)) for va in range(max(start, 0), (center & ~3) + 4 * after, 4))


def core_state(core) -> CoreState:
    regs = core.regs
    vals = list(regs.xregs.read())
    timer = core.timer
    return CoreState(
        index=core.index, state=core.state, fault=core.fault, pc=core.pc, sp=vals[31],
        x=tuple(vals[:31]), pstate=core.pstate, vmid=core.vmid(), instructions=core.instructions,
        mpidr=core.mpidr, sysregs={n: core.sysreg(n) for n in SYSREG_NAMES},
        timers={n: core.sysreg(n) if n == "CNTKCTL_EL1" else timer.read_sysreg(n)   # CNTKCTL: QEMU's
                for n in TIMER_NAMES} if timer is not None else {},
        irq_line=core.irq_line.level, fiq_line=core.fiq_line.level,
        code=code_window(core, core.pc), exceptions_taken=sum(core.exception_counts.values()))


def interrupts_state(board) -> InterruptsState:
    local = board.devices["arm_local"]
    intc = board.devices["interrupt_controller"]
    st = board.devices["system_timer"]
    ic = intc.state()
    return InterruptsState(
        arm_local=local.state(), irq_source=tuple(local.irq_source(i) for i in range(4)),
        fiq_source=tuple(local.fiq_source(i) for i in range(4)), controller=ic,
        basic_pending=intc.basic_pending(), gpu_pending=ic.gpu_raw & ic.gpu_enable,
        system_timer=st.state(), system_timer_count=board.clock.micros() & 0xFFFFFFFFFFFFFFFF)


_FB_CACHE: dict[int, FramebufferState] = {}


def framebuffer_state(board) -> Optional[FramebufferState]:
    """The framebuffer picture, sampled again only when its bytes or its configuration changed."""
    c = board.devices["videocore_mailbox"].framebuffer.state()
    if not c.allocated:
        _FB_CACHE.pop(id(board), None)
        return None
    crc = zlib.crc32(board.read_ram(c.base, c.size))
    old = _FB_CACHE.get(id(board))
    if old is not None and old.config == c and old.crc == crc:
        return old
    w, h, rgb = sample(c, board.read_ram, *FB_SAMPLE)
    _FB_CACHE[id(board)] = fb = FramebufferState(c, w, h, rgb, crc)
    return fb


def recent_events(board, n: int = EVENTS_KEPT) -> tuple[X.ExceptionRecord, ...]:
    recs = [r for c in board.cores for r in c.exceptions]
    recs.sort(key=lambda r: (r.cycles, r.core))
    return tuple(recs[-n:])


def board_state(board, *, serial: int = 0, stop_serial: int = 0, running: bool = False,
                reason: str = "", uart_out: Optional[Mapping[str, bytearray]] = None,
                uart_totals: Optional[Mapping[str, int]] = None, breakpoints=(),
                image: str = "", world_switches=()) -> BoardState:
    uart_out = uart_out or {}
    uart_totals = uart_totals or {}
    uarts = []
    for name, dev in (("pl011", "pl011"), ("mini", "mini_uart")):
        buf = uart_out.get(name, b"")
        st = board.devices[dev].state()
        uarts.append(UartState(name, bytes(buf[-UART_KEPT:]), uart_totals.get(name, len(buf)),
                               len(st.rx_fifo) + len(st.pending_input)))
    bps = tuple(BreakpointState(b.id, b.address, b.vmid, b.el, b.core, b.enabled, b.hits)
                for b in breakpoints)
    return BoardState(
        serial=serial, stop_serial=stop_serial, running=running, reason=reason,
        instructions=board.instructions, cycles=board.clock.cycles,
        cores=tuple(core_state(c) for c in board.cores), interrupts=interrupts_state(board),
        uarts=tuple(uarts), events=recent_events(board), breakpoints=bps, image=image,
        framebuffer=framebuffer_state(board), world_switches=tuple(world_switches)[-EVENTS_KEPT:])


_EL3_REGS = ("sctlr_el3", "tcr_el3", "ttbr0_el3", "mair_el3")


def auto_regime(el: int, scr_el3: int) -> str:
    """The regime of the code a core runs: EL3, EL2, or the EL1&0 of its world."""
    if el >= 2:
        return f"el{el}"
    return "sel10" if is_secure(el, scr_el3) else "el10"


def walk_state(core, va: int, regime: str = "auto") -> WalkState:
    """The walk of ``va`` on ``core`` as its tables stand (``auto``: the core's own regime).

    ``sel10`` is the Secure EL1&0 regime: the same EL1 registers (AArch64 banks
    none of them by security state) walked with EL2 out of the way."""
    el = core.el
    regs = translation_regs(core)
    regs = replace(regs, **{n: core.regs.read_enc(encoding_of(n.upper())) for n in _EL3_REGS})
    if regime == "auto":
        regime = auto_regime(el, core.sysreg("SCR_EL3"))
    read = core.board.read_phys
    s1 = None
    try:
        if regime in ("el2", "el3"):
            walk = s1 = walk_stage1(va, regs, read, regime, "r", int(regime[2]))
        elif regime == "s2":
            walk = walk_stage2(va, regs, read, "r")
        elif regime == "sel10":
            regs = replace(regs, hcr_el2=0)              # EL2 does not act on Secure state
            walk = s1 = walk_stage1(va, regs, read, "el10", "r", 0 if el == 0 else 1)
        else:
            acc_el = 0 if el == 0 else 1
            s1 = walk_stage1(va, regs, read, "el10", "r", acc_el)
            walk = translate_el10(va, regs, read, "r", acc_el)
    except UnsupportedGranule as e:
        return WalkState(core.index, va, regime, el, regs, None, None, str(e))
    sec = walk_security(s1, regime in ("el3", "sel10")) if s1 is not None else None
    return WalkState(core.index, va, regime, el, regs, walk, s1, security=sec)


def code_state(core, address: int) -> CodeState:
    return CodeState(core.index, address, code_window(core, address))
