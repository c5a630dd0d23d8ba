"""The debugger on the demo hypervisor: stops that know which VM they are in.

Two mini OS instances (VMIDs 2 and 3) run the same kernel at the same virtual
addresses, so these are the cases VMID filters exist for.  The hypervisor
traps WFI (HCR_EL2.TWI) — which is also what makes Unicorn's breakpoint
carrier misfire unless vizor keeps TWI out of QEMU's HCR_EL2 (core.py).
"""

from __future__ import annotations

import os

from test_determinism import machine_hash

import vizor.machine.arch.exceptions as X
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.clock import counter_at
from vizor.machine.cpu.regs import ENC
from vizor.machine.debug.engine import Debugger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
MINIOS = os.path.join(ROOT, "images", "guests", "minios.elf")
MINIOS_SYMS = load_image(MINIOS, 2).symbols.by_name
SCHEDULE = MINIOS_SYMS["schedule"]
KERNEL_ENTRY = MINIOS_SYMS["kernel_entry"]
STORE = MINIOS_SYMS["uart_write"] + 0x40  # str w1, [x5]: AUX_MU_IO, trapped by stage 2


def boot():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    return board, Debugger(board)


def loaded_vmid(core) -> int:
    return (core.regs.read_enc(ENC["VTTBR_EL2"]) >> 48) & 0xFF


def stops(dbg, n, budget=40_000_000):
    out = []
    for _ in range(n):
        reason = dbg.run(max_insns=budget)
        assert reason.kind == "breakpoint", reason
        core = dbg.board.cores[reason.core]
        out.append((core, core.pc, core.el, core.vmid(), loaded_vmid(core)))
    return out


def test_a_breakpoint_in_a_guest_stops_under_a_hypervisor_that_traps_wfi():
    board, dbg = boot()
    dbg.add_breakpoint(KERNEL_ENTRY)
    (core, pc, el, vmid, _), = stops(dbg, 1)
    assert core.hcr & X.HCR_TWI  # the hypervisor traps WFI ...
    assert (pc, el) == (KERNEL_ENTRY, 1) and vmid in (2, 3)  # ... and the breakpoint still works


def test_an_unfiltered_breakpoint_stops_in_both_mini_os_instances():
    _board, dbg = boot()
    dbg.add_breakpoint(SCHEDULE)
    seen = stops(dbg, 10)
    assert all(pc == SCHEDULE and el == 1 for _c, pc, el, _v, _l in seen)
    assert {vmid for *_x, vmid, _l in seen} == {2, 3}


def test_a_vmid_filter_stops_only_in_that_instance():
    _board, dbg = boot()
    bp = dbg.add_breakpoint(SCHEDULE, vmid=3)
    seen = stops(dbg, 8)
    assert all(pc == SCHEDULE and el == 1 and vmid == 3 and loaded == 3 for _c, pc, el, vmid, loaded in seen)
    assert dbg.get(bp.id).hits == 8


def test_step_in_vm_steps_over_the_hypervisor_emulating_a_trapped_store():
    board, dbg = boot()
    dbg.add_breakpoint(STORE, vmid=2)
    (core, *_rest), = stops(dbg, 1)
    seen = []
    board.exception_listeners.append(lambda c, rec: seen.append(rec) if c is core else None)
    reason = dbg.step_in_vm(core.index)
    assert reason.kind == "step" and reason.core == core.index
    assert core.pc == STORE + 4 and core.el == 1 and core.vmid() == 2
    assert seen and seen[0].to_el == 2 and seen[0].ec == X.EC_DABT_LOWER and seen[0].vmid == 2
    assert seen[0].elr == STORE


def test_a_plain_step_from_the_same_store_lands_in_the_hypervisor():
    board, dbg = boot()
    dbg.add_breakpoint(STORE, vmid=2)
    (core, *_rest), = stops(dbg, 1)
    dbg.step(core.index)
    assert core.el == 2 and core.pc == core.sysreg("VBAR_EL2") + 0x400


def test_a_pa_watchpoint_on_a_stage2_table_catches_the_hypervisor_writing_it():
    board, dbg = boot()
    first = board.cores[0]
    # The VM table is built before any VTTBR_EL2 is loaded: find VM 2's table base
    # from a plain run, then watch it from reset.
    plain, _ = boot()
    plain.run(max_insns=3_000_000)
    base = next(c.regs.read_enc(ENC["VTTBR_EL2"]) & 0xFFFFFFFFF000 for c in plain.cores if loaded_vmid(c) == 2)
    dbg.add_watchpoint(pa=base, length=8, writes=True)
    reason = dbg.run(max_insns=20_000_000)
    assert reason.kind == "watchpoint", reason
    writer = board.cores[reason.core]
    assert writer.el == 2 and f"PA {base:#x}" in reason.detail
    assert board.symbols.lookup(writer.pc) is not None
    assert first is board.cores[0]


def test_run_until_vmid_stops_at_its_first_instruction_in_that_vm():
    board, dbg = boot()
    reason = dbg.run_until_vmid(3, max_insns=40_000_000)
    assert reason.kind == "vm-entry", reason
    core = board.cores[reason.core]
    assert core.el == 1 and core.vmid() == 3


def test_stops_in_guests_do_not_change_the_run():
    plain, _ = boot()
    plain.run(max_insns=4_000_000)
    board, dbg = boot()
    dbg.add_breakpoint(SCHEDULE)
    dbg.add_breakpoint(STORE, vmid=3)
    n = 0
    while board.instructions < 4_000_000:
        reason = dbg.run(max_insns=4_000_000 - board.instructions)
        if reason.kind == "breakpoint":
            n += 1
            if n % 3 == 0:
                dbg.step_in_vm(reason.core, max_insns=4_000_000 - board.instructions)
    assert n >= 4
    assert machine_hash(board) == machine_hash(plain)


def test_a_breakpoint_by_pa_finds_the_guest_va_that_maps_it():
    board, dbg = boot()
    entry = dbg.add_breakpoint(KERNEL_ENTRY, vmid=3)  # VM 3's MMU is on from here
    assert dbg.run(max_insns=40_000_000).kind == "breakpoint"
    dbg.remove(entry.id)
    # VM 3's RAM is at PA 0x03000000 (images/README.md); the kernel runs at 0xffff000000000000 | IPA
    pa = 0x03000000 + (SCHEDULE & 0xFFFFFF)
    bps = dbg.add_physical_breakpoint(pa, "pa", vmid=3)
    assert SCHEDULE in [bp.address for bp in bps]
    ipa_bps = dbg.add_physical_breakpoint(SCHEDULE & 0xFFFFFF, "ipa", vmid=3)
    assert SCHEDULE in [bp.address for bp in ipa_bps]
    reason = dbg.run(max_insns=40_000_000)
    assert reason.kind == "breakpoint" and board.cores[reason.core].vmid() == 3


def test_a_pa_breakpoint_needs_the_vm_to_be_running():
    board, dbg = boot()
    import pytest
    with pytest.raises(ValueError, match="VMID 3 is not running on any core now"):
        dbg.add_physical_breakpoint(0x03002000, "pa", vmid=3)
    with pytest.raises(ValueError, match="name the VM"):
        dbg.add_physical_breakpoint(0x2000, "ipa")


def _to_worker_near_tick(dbg):
    """Stop VM 2's EL0 worker and bring that core's CNTHP tick (the
    hypervisor's 2 ms scheduling tick) to 30 counter ticks (~1,900 of the
    core's instructions) away — a debugger edit, made identically on the
    boards compared."""
    worker = dbg.add_breakpoint(MINIOS_SYMS["user_worker"] + 0x44, vmid=2)
    reason = dbg.run(max_insns=60_000_000)
    assert reason.kind == "breakpoint", reason
    dbg.remove(worker.id)
    core = dbg.board.cores[reason.core]
    assert core.timer.read_sysreg("CNTHP_CTL_EL2") & 1  # the tick is armed
    core.timer.write_sysreg("CNTHP_CVAL_EL2", counter_at(core.now()) + 30)  # the core's own time
    return core


def test_step_in_vm_across_a_timer_interrupt_lands_on_the_guests_next_instructions():
    board, dbg = boot()
    core = _to_worker_near_tick(dbg)
    ref_board, ref = boot()
    ref_core = _to_worker_near_tick(ref)
    assert ref_core.index == core.index and ref_board.instructions == board.instructions
    irqs = []
    board.exception_listeners.append(lambda c, r: irqs.append(r) if c is core and r.kind == "irq" else None)
    landed = []
    for _ in range(4_000):
        reason = dbg.step_in_vm(core.index, max_insns=20_000_000)
        assert reason.kind == "step" and core.vmid() == 2 and core.el < 2, reason
        landed.append(core.pc)
        if irqs and len(landed) > len(irqs) + 20:
            break
    assert irqs and irqs[0].to_el == 2 and irqs[0].vmid == 2  # the tick went through EL2
    expected = []  # the same run, one instruction at a time, keeping VM 2's instructions on that core
    while len(expected) < len(landed):
        ref.step(ref_core.index)
        if ref_core.el < 2 and ref_core.vmid() == 2:
            expected.append(ref_core.pc)
    assert landed == expected
