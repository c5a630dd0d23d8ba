"""The devices chained the way the board wires them (DESIGN.md "Board facts"):
system timer -> BCM2835 interrupt controller -> ARM-local GPU routing -> core
IRQ pin, and a core's generic timer -> ARM-local timer inputs -> core pins."""

from __future__ import annotations

from vizor.machine.clock import cycles_for_counter, cycles_for_micros
from vizor.machine.devices import (
    ArmLocal,
    GenericTimer,
    InterruptController,
    IrqLine,
    SystemTimer,
)
from vizor.machine.devices.arm_local import (
    CORE_IRQ_SOURCE,
    CORE_TIMER_INT_CONTROL,
    GPU_INT_ROUTING,
)
from vizor.machine.devices.interrupt_controller import ENABLE_IRQS_1
from vizor.machine.devices.system_timer import C1, CS


def build(clock):
    irq = [IrqLine(f"core{c}.irq") for c in range(4)]
    fiq = [IrqLine(f"core{c}.fiq") for c in range(4)]
    local = ArmLocal(clock, irq, fiq)
    ic = InterruptController(local.gpu_irq_input, local.gpu_fiq_input)
    systimer = SystemTimer(clock, [ic.irq_input(n) for n in range(4)])
    timers = [GenericTimer(clock, [local.timer_input(c, n) for n in range(4)]) for c in range(4)]
    return irq, fiq, local, ic, systimer, timers


def test_system_timer_match_reaches_the_routed_core(clock):
    irq, _, local, ic, systimer, _ = build(clock)
    local.write(GPU_INT_ROUTING, 4, 1)  # GPU IRQ to core 1
    ic.write(ENABLE_IRQS_1, 4, 1 << 1)
    systimer.write(C1, 4, 20)
    clock.advance_to(cycles_for_micros(20))
    assert [line.level for line in irq] == [False, True, False, False]
    systimer.write(CS, 4, 1 << 1)
    assert not irq[1].level


def test_core_cntv_reaches_its_own_core_only(clock):
    irq, _, local, _, _, timers = build(clock)
    local.write(CORE_TIMER_INT_CONTROL + 4 * 2, 4, 1 << 3)
    timers[2].write_sysreg("CNTV_TVAL_EL0", 100)
    timers[2].write_sysreg("CNTV_CTL_EL0", 1)
    clock.advance_to(cycles_for_counter(100))
    assert [line.level for line in irq] == [False, False, True, False]
    assert local.read(CORE_IRQ_SOURCE + 8, 4) == 1 << 3
    timers[2].write_sysreg("CNTV_CTL_EL0", 0b11)  # IMASK
    assert not irq[2].level
