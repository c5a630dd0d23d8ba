"""BCM2836/7 ARM-local peripherals at 0x40000000 (the "QA7" document).

Routes every interrupt a core can see to that core's IRQ or FIQ pin: the four
generic-timer outputs of each core, the sixteen core mailboxes, the GPU
(BCM2835 interrupt controller) IRQ and FIQ, the per-core PMU interrupts and
the local timer.  Where QA7 lets a source be enabled for both, FIQ wins.

Inputs are ``IrqLine`` objects this block owns and hands out
(``timer_input(core, n)``, ``gpu_irq_input``, ``gpu_fiq_input``,
``pmu_input(core)``); outputs are the injected per-core IRQ and FIQ lines.

Not implemented: the AXI outstanding counters/IRQ (0x2C, 0x30: raise
UnmodelledAccess; source bit 10 never sets), writing the core timer (0x1C/0x20
writes raise UnmodelledAccess — the 64-bit core timer *is* the board's
19.2 MHz counter, so control bits 8/9 and the prescaler are stored but do not
change its rate).  Reads of write-only registers (0x38, mailbox write-set
0x80–0xBC) return 0.  The local timer counts the 38.4 MHz crystal down from
its reload value and sets its flag each time it reaches zero; its current
value is not visible (QA7 has no register for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vizor.machine.clock import Clock
from vizor.machine.devices.base import IrqLine, UnmodelledAccess

CONTROL = 0x00
CORE_TIMER_PRESCALER = 0x08
GPU_INT_ROUTING = 0x0C
PMU_ROUTING_SET = 0x10
PMU_ROUTING_CLR = 0x14
CORE_TIMER_LS = 0x1C
CORE_TIMER_MS = 0x20
LOCAL_INT_ROUTING = 0x24
AXI_COUNTERS = 0x2C
AXI_IRQ = 0x30
LOCAL_TIMER_CONTROL = 0x34
LOCAL_TIMER_WRITE_FLAGS = 0x38
CORE_TIMER_INT_CONTROL = 0x40   # + 4 * core
CORE_MAILBOX_INT_CONTROL = 0x50  # + 4 * core
CORE_IRQ_SOURCE = 0x60          # + 4 * core
CORE_FIQ_SOURCE = 0x70          # + 4 * core
MAILBOX_SET = 0x80              # + 0x10 * core + 4 * mailbox
MAILBOX_RDCLR = 0xC0            # + 0x10 * core + 4 * mailbox
SIZE = 0x100

# Core IRQ/FIQ source bits
SRC_CNTPS, SRC_CNTPNS, SRC_CNTHP, SRC_CNTV = (1 << n for n in range(4))
SRC_MAILBOX0 = 1 << 4
SRC_GPU = 1 << 8
SRC_PMU = 1 << 9
SRC_AXI = 1 << 10
SRC_LOCAL_TIMER = 1 << 11

# Local timer control/status (0x34) and write flags (0x38)
LT_RELOAD_MASK = (1 << 28) - 1
LT_ENABLE = 1 << 28
LT_INT_ENABLE = 1 << 29
LT_INT_FLAG = 1 << 31
LT_CLEAR_FLAG = 1 << 31
LT_RELOAD = 1 << 30

# 38.4 MHz crystal ticks per 1.2 GHz cycle: 38.4e6 / 1.2e9 = 4 / 125
_LT_NUM, _LT_DEN = 4, 125

NCORES = 4


def _lt_tick(cycles: int) -> int:
    return cycles * _LT_NUM // _LT_DEN


def _lt_cycles(tick: int) -> int:
    return -(-tick * _LT_DEN // _LT_NUM)


@dataclass(frozen=True)
class ArmLocalState:
    control: int
    prescaler: int
    gpu_routing: int
    pmu_routing: int
    local_routing: int
    local_timer: int          # control/status without the flag
    local_timer_flag: bool
    local_timer_base: int     # crystal tick of the last (re)load
    timer_int_control: tuple[int, ...]
    mailbox_int_control: tuple[int, ...]
    mailboxes: tuple[tuple[int, ...], ...]
    ms_latch: int
    inputs: tuple[bool, ...]  # timer inputs (16), GPU IRQ, GPU FIQ, PMU (4)


class ArmLocal:
    """The QA7 local interrupt controller, core mailboxes and local timer."""

    def __init__(self, clock: Clock, irq_out: Sequence[IrqLine],
                 fiq_out: Sequence[IrqLine]) -> None:
        if len(irq_out) != NCORES or len(fiq_out) != NCORES:
            raise ValueError("ArmLocal drives one IRQ and one FIQ line per core")
        self._clock = clock
        self._irq_out = tuple(irq_out)
        self._fiq_out = tuple(fiq_out)
        changed = lambda _level: self._update_irqs()  # noqa: E731
        names = ("CNTPS", "CNTPNS", "CNTHP", "CNTV")
        # a core's own timers and PMU reach only that core's lines
        self._timer_in = tuple(
            tuple(IrqLine(f"core{c}.{names[t]}", lambda _level, c=c: self._update_core(c)) for t in range(4))
            for c in range(NCORES))
        self.gpu_irq_input = IrqLine("gpu.irq", changed)
        self.gpu_fiq_input = IrqLine("gpu.fiq", changed)
        self._pmu_in = tuple(IrqLine(f"core{c}.pmu", lambda _level, c=c: self._update_core(c))
                             for c in range(NCORES))
        self._lt_event = None
        self.reset()

    def timer_input(self, core: int, timer: int) -> IrqLine:
        """Core ``core``'s timer input: 0 CNTPS, 1 CNTPNS, 2 CNTHP, 3 CNTV."""
        return self._timer_in[core][timer]

    def pmu_input(self, core: int) -> IrqLine:
        return self._pmu_in[core]

    def _inputs(self) -> list[IrqLine]:
        return ([line for core in self._timer_in for line in core]
                + [self.gpu_irq_input, self.gpu_fiq_input, *self._pmu_in])

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._control = 0
        self._prescaler = 0
        self._gpu_routing = 0        # GPU IRQ and FIQ to core 0
        self._pmu_routing = 0
        self._local_routing = 0
        self._lt_control = 0
        self._lt_flag = False
        self._lt_base = 0
        self._timer_ctl = [0] * NCORES
        self._mbox_ctl = [0] * NCORES
        self._mbox = [[0] * 4 for _ in range(NCORES)]
        self._ms_latch = 0
        self._reschedule_local_timer()
        self._update_irqs()

    def state(self) -> ArmLocalState:
        return ArmLocalState(
            self._control, self._prescaler, self._gpu_routing, self._pmu_routing,
            self._local_routing, self._lt_control, self._lt_flag, self._lt_base,
            tuple(self._timer_ctl), tuple(self._mbox_ctl),
            tuple(tuple(m) for m in self._mbox), self._ms_latch,
            tuple(line.level for line in self._inputs()))

    def restore(self, state: ArmLocalState) -> None:
        self._control = state.control
        self._prescaler = state.prescaler
        self._gpu_routing = state.gpu_routing
        self._pmu_routing = state.pmu_routing
        self._local_routing = state.local_routing
        self._lt_control = state.local_timer
        self._lt_flag = state.local_timer_flag
        self._lt_base = state.local_timer_base
        self._timer_ctl = list(state.timer_int_control)
        self._mbox_ctl = list(state.mailbox_int_control)
        self._mbox = [list(m) for m in state.mailboxes]
        self._ms_latch = state.ms_latch
        for line, level in zip(self._inputs(), state.inputs):
            line.level = level  # the drivers re-drive them as they restore
        self._reschedule_local_timer()
        self._update_irqs()

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4 or offset & 3:
            raise UnmodelledAccess(f"ArmLocal: {size}-byte access at {offset:#x}")
        if offset >= MAILBOX_RDCLR and offset < SIZE:
            core, box = divmod((offset - MAILBOX_RDCLR) // 4, 4)
            return self._mbox[core][box]
        if MAILBOX_SET <= offset < MAILBOX_RDCLR:
            return 0  # write-only
        if CORE_IRQ_SOURCE <= offset < CORE_IRQ_SOURCE + 16:
            return self.irq_source(offset - CORE_IRQ_SOURCE >> 2)
        if CORE_FIQ_SOURCE <= offset < CORE_FIQ_SOURCE + 16:
            return self.fiq_source(offset - CORE_FIQ_SOURCE >> 2)
        if CORE_TIMER_INT_CONTROL <= offset < CORE_TIMER_INT_CONTROL + 16:
            return self._timer_ctl[offset - CORE_TIMER_INT_CONTROL >> 2]
        if CORE_MAILBOX_INT_CONTROL <= offset < CORE_MAILBOX_INT_CONTROL + 16:
            return self._mbox_ctl[offset - CORE_MAILBOX_INT_CONTROL >> 2]
        if offset == CONTROL:
            return self._control
        if offset == CORE_TIMER_PRESCALER:
            return self._prescaler
        if offset == GPU_INT_ROUTING:
            return self._gpu_routing
        if offset in (PMU_ROUTING_SET, PMU_ROUTING_CLR):
            return self._pmu_routing
        if offset == CORE_TIMER_LS:
            count = self._clock.counter()
            self._ms_latch = (count >> 32) & 0xFFFFFFFF
            return count & 0xFFFFFFFF
        if offset == CORE_TIMER_MS:
            return self._ms_latch
        if offset == LOCAL_INT_ROUTING:
            return self._local_routing
        if offset == LOCAL_TIMER_CONTROL:
            return self._lt_control | (LT_INT_FLAG if self._lt_flag else 0)
        if offset == LOCAL_TIMER_WRITE_FLAGS:
            return 0  # write-only
        raise UnmodelledAccess(f"ArmLocal: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4 or offset & 3:
            raise UnmodelledAccess(f"ArmLocal: {size}-byte access at {offset:#x}")
        value &= 0xFFFFFFFF
        if MAILBOX_RDCLR <= offset < SIZE:
            core, box = divmod((offset - MAILBOX_RDCLR) // 4, 4)
            self._mbox[core][box] &= ~value
        elif MAILBOX_SET <= offset < MAILBOX_RDCLR:
            core, box = divmod((offset - MAILBOX_SET) // 4, 4)
            self._mbox[core][box] |= value
        elif CORE_TIMER_INT_CONTROL <= offset < CORE_TIMER_INT_CONTROL + 16:
            self._timer_ctl[offset - CORE_TIMER_INT_CONTROL >> 2] = value & 0xFF
        elif CORE_MAILBOX_INT_CONTROL <= offset < CORE_MAILBOX_INT_CONTROL + 16:
            self._mbox_ctl[offset - CORE_MAILBOX_INT_CONTROL >> 2] = value & 0xFF
        elif CORE_IRQ_SOURCE <= offset < CORE_FIQ_SOURCE + 16:
            pass  # source registers are read-only
        elif offset == CONTROL:
            self._control = value & 0x300
        elif offset == CORE_TIMER_PRESCALER:
            self._prescaler = value
        elif offset == GPU_INT_ROUTING:
            self._gpu_routing = value & 0xF
        elif offset == PMU_ROUTING_SET:
            self._pmu_routing |= value & 0xFF
        elif offset == PMU_ROUTING_CLR:
            self._pmu_routing &= ~value & 0xFF
        elif offset == LOCAL_INT_ROUTING:
            self._local_routing = value & 0x7
        elif offset == LOCAL_TIMER_CONTROL:
            was_enabled = self._lt_control & LT_ENABLE
            self._lt_control = value & (LT_RELOAD_MASK | LT_ENABLE | LT_INT_ENABLE)
            if not was_enabled:
                self._lt_base = _lt_tick(self._clock.cycles)
            self._reschedule_local_timer()
        elif offset == LOCAL_TIMER_WRITE_FLAGS:
            if value & LT_CLEAR_FLAG:
                self._lt_flag = False
            if value & LT_RELOAD:
                self._lt_base = _lt_tick(self._clock.cycles)
                self._reschedule_local_timer()
        else:
            raise UnmodelledAccess(f"ArmLocal: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    # ------------------------------------------------------- source logic
    def _sources(self, core: int) -> tuple[int, int]:
        """(IRQ source, FIQ source) of one core, as registers 0x60/0x70 read."""
        irq = fiq = 0
        tctl, mctl = self._timer_ctl[core], self._mbox_ctl[core]
        for n in range(4):
            if self._timer_in[core][n].level:
                if tctl & (0x10 << n):
                    fiq |= 1 << n
                elif tctl & (1 << n):
                    irq |= 1 << n
            if self._mbox[core][n]:
                if mctl & (0x10 << n):
                    fiq |= SRC_MAILBOX0 << n
                elif mctl & (1 << n):
                    irq |= SRC_MAILBOX0 << n
        if self.gpu_irq_input.level and self._gpu_routing & 3 == core:
            irq |= SRC_GPU
        if self.gpu_fiq_input.level and (self._gpu_routing >> 2) & 3 == core:
            fiq |= SRC_GPU
        if self._pmu_in[core].level:
            if self._pmu_routing & (0x10 << core):
                fiq |= SRC_PMU
            elif self._pmu_routing & (1 << core):
                irq |= SRC_PMU
        if (self._lt_flag and self._lt_control & LT_INT_ENABLE
                and self._local_routing & 3 == core):
            if self._local_routing & 4:
                fiq |= SRC_LOCAL_TIMER
            else:
                irq |= SRC_LOCAL_TIMER
        return irq, fiq

    def reachable(self, core: int, timers_armed, gpu: tuple[bool, bool]) -> tuple[bool, bool]:
        """(IRQ, FIQ): whether some source routed to ``core`` could raise its
        line, now or later: an armed timer (``timers_armed``, four booleans),
        a mailbox with its interrupt enabled, the GPU lines (``gpu``: whether
        the interrupt controller could raise them), the PMU, the local timer."""
        irq, fiq = self._sources(core)
        irq, fiq = irq != 0, fiq != 0
        tctl, mctl = self._timer_ctl[core], self._mbox_ctl[core]
        for n in range(4):
            if timers_armed[n]:
                fiq |= bool(tctl & (0x10 << n))
                irq |= bool(tctl & (1 << n)) and not tctl & (0x10 << n)
            fiq |= bool(mctl & (0x10 << n))
            irq |= bool(mctl & (1 << n)) and not mctl & (0x10 << n)
        irq |= gpu[0] and self._gpu_routing & 3 == core
        fiq |= gpu[1] and (self._gpu_routing >> 2) & 3 == core
        fiq |= bool(self._pmu_routing & (0x10 << core))
        irq |= bool(self._pmu_routing & (1 << core))
        if self._lt_control & (LT_INT_ENABLE | LT_ENABLE) == LT_INT_ENABLE | LT_ENABLE and self._local_routing & 3 == core:
            fiq |= bool(self._local_routing & 4)
            irq |= not self._local_routing & 4
        return irq, fiq

    def irq_source(self, core: int) -> int:
        return self._sources(core)[0]

    def fiq_source(self, core: int) -> int:
        return self._sources(core)[1]

    def _update_irqs(self) -> None:
        for core in range(NCORES):
            self._update_core(core)

    def _update_core(self, core: int) -> None:
        irq, fiq = self._sources(core)
        self._irq_out[core].set(irq != 0)
        self._fiq_out[core].set(fiq != 0)

    # -------------------------------------------------------- local timer
    def _reschedule_local_timer(self) -> None:
        Clock.cancel(self._lt_event)
        self._lt_event = None
        reload = self._lt_control & LT_RELOAD_MASK
        if self._lt_control & LT_ENABLE and reload:
            when = _lt_cycles(self._lt_base + reload)
            self._lt_event = self._clock.schedule(when, self._on_local_timer)

    def _on_local_timer(self) -> None:
        self._lt_flag = True
        reload = self._lt_control & LT_RELOAD_MASK
        elapsed = _lt_tick(self._clock.cycles) - self._lt_base
        self._lt_base += max(1, elapsed // reload) * reload
        self._reschedule_local_timer()
        self._update_irqs()
