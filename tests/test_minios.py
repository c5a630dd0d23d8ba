"""The mini OS guest (images/guests/minios.elf) run natively under its EL2
harness (images/guests/harness.elf: stage 2 IPA 0-16 MiB -> PA 0x01000000,
devices passed through, IRQs straight to EL1), on vizor and on QEMU raspi3b.

Per-pid line sequences are fixed by the guest; their interleaving depends on
timing, so comparisons are per pid.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field

import pytest
from elftools.elf.elffile import ELFFile
from qemu_runner import QEMU, qemu_available

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.mmu import translate_el10
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.cpu.faults import translation_regs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUESTS = os.path.join(ROOT, "images", "guests")
HARNESS = os.path.join(GUESTS, "harness.elf")
MINIOS = os.path.join(GUESTS, "minios.elf")

KVA = 0xFFFF000000000000
GUEST_PA = 0x01000000            # where the harness puts IPA 0
USER_TEXT = 0x400000
USER_STACK_TOP = 0x600000
DONE = "[kernel] all foreground processes exited"
BUDGET = 20_000_000              # instructions; the guest gets to DONE in about 8.6 M
STEP = 50_000                    # sampling interval

requires_qemu = pytest.mark.skipif(not qemu_available(),
                                   reason="qemu-system-aarch64 is not installed (CI installs it)")


def xorshift_sum(seed: int, rounds: int) -> int:
    """What user_worker's work() computes (images/guests/minios/user.c)."""
    m = (1 << 64) - 1
    x, total = (seed * 0x9E3779B97F4A7C15 + 1) & m, 0
    for _ in range(rounds):
        x ^= (x << 13) & m
        x ^= x >> 7
        x ^= (x << 17) & m
        total = (total + x) & m
    return total & 0xFFFFFFFF


EXPECTED = {
    1: [f"tick {i}" for i in range(5)],
    2: [f"work {i} sum={xorshift_sum(i, 300000):#010x}" for i in range(4)],
    3: [f"yield {i}" for i in range(6)],
    4: ["background, sleeping 3 ticks between rounds of work"],
}
EXIT_STATUS = {1: 0, 2: 0, 3: 3}


def per_pid(text: str) -> dict[int, list[str]]:
    seq: dict[int, list[str]] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\[pid (\d+)\] (.*)", line)
        if m:
            seq.setdefault(int(m.group(1)), []).append(m.group(2))
    return seq


@dataclass
class Sample:
    el: int
    pc: int
    ttbr0: int


@dataclass
class Run:
    text: str
    board: Board
    exceptions: list = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    ttbr0_at: list[int] = field(default_factory=list)   # TTBR0_EL1 at each exception


@pytest.fixture(scope="module")
def vizor_run() -> Run:
    board = Board()
    board.load(load_image(HARNESS, 2), 2)
    out: list[str] = []
    board.uart_listeners.append(lambda uart, b: out.append(chr(b)) if uart == "mini" else None)
    run = Run("", board)
    def on_exception(core, rec):
        run.exceptions.append(rec)
        run.ttbr0_at.append(core.sysreg("TTBR0_EL1"))
    board.exception_listeners.append(on_exception)
    core = board.cores[0]
    for _ in range(BUDGET // STEP):
        reason = board.run(max_insns=STEP)
        assert reason.kind == "max_insns", reason
        run.samples.append(Sample(core.el, core.pc, core.sysreg("TTBR0_EL1")))
        if DONE in "".join(out[-80:]):
            break
    run.text = "".join(out).replace("\r\n", "\n")
    assert DONE in run.text, f"no {DONE!r} within {BUDGET} instructions:\n{run.text}"
    return run


@pytest.fixture(scope="module")
def minios_symbols():
    return load_image(MINIOS).symbols.by_name


def test_banner_shows_vmpidr_and_id_registers(vizor_run):
    lines = vizor_run.text.splitlines()
    assert lines[0].startswith("harness: EL2")
    assert lines[1] == "minios: mini OS guest, kernel at 0xffff000000000000 | IPA through TTBR1_EL1"
    assert lines[2] == "minios: MPIDR_EL1=0x0000000080000000 MIDR_EL1=0x00000000410fd034"
    assert re.fullmatch(r"minios: ID_AA64PFR0_EL1=0x[0-9a-f]{16} ID_AA64MMFR0_EL1=0x[0-9a-f]{16}", lines[3])
    assert lines[4].startswith("minios: CurrentEL=1 TTBR1_EL1=")


def test_each_process_prints_its_lines_in_order(vizor_run):
    assert per_pid(vizor_run.text) == EXPECTED
    for pid, status in EXIT_STATUS.items():
        assert f"[kernel] pid {pid} exited with status {status}" in vizor_run.text
    assert "PANIC" not in vizor_run.text and "fault" not in vizor_run.text


def test_output_lines_are_never_torn(vizor_run):
    # one SVC write per line, written with IRQs masked: every line is whole
    for line in vizor_run.text.splitlines():
        assert re.fullmatch(r"(harness|minios): .*|\[kernel\] .*|\[pid \d\] .*", line), line


def test_kernel_pc_is_in_the_high_half_once_the_boot_stub_jumped():
    # fine-grained samples over the boot: harness (EL2), boot stub (EL1, VA = IPA),
    # kernel (EL1, VA = 0xffff000000000000 | IPA), then EL0 processes
    board = Board()
    board.load(load_image(HARNESS, 2), 2)
    core = board.cores[0]
    trace = []
    for _ in range(150):
        board.run(max_insns=2_000)
        trace.append((core.el, core.pc))
    phases = []
    for el, pc in trace:
        phase = "harness" if el == 2 else "boot" if el == 1 and pc < KVA else "kernel" if el == 1 else "user"
        if not phases or phases[-1] != phase:
            phases.append(phase)
    assert phases[:4] == ["harness", "boot", "kernel", "user"]
    assert "boot" not in phases[2:] and "harness" not in phases[1:]
    # at the first sample in the kernel, its PC translates through TTBR1_EL1 to guest RAM
    i = next(i for i, (el, pc) in enumerate(trace) if el == 1 and pc >= KVA)
    board = Board()
    board.load(load_image(HARNESS, 2), 2)
    board.run(max_insns=2_000 * (i + 1))
    pc = board.cores[0].pc
    assert (board.cores[0].el, pc) == trace[i]
    walk = translate_el10(pc, translation_regs(board.cores[0]), board.read_phys, "x", 1)
    assert walk.fault is None and walk.output == GUEST_PA + (pc - KVA)


def test_processes_run_in_ttbr0_with_their_own_asids(vizor_run):
    el0 = [s for s in vizor_run.samples if s.el == 0]
    assert len(el0) >= 10 and all(USER_TEXT <= s.pc < USER_STACK_TOP for s in el0)
    assert {s.ttbr0 >> 48 for s in el0} <= {1, 2, 3, 4}
    # every process made SVCs from its own tables, tagged with ASID = pid
    svc_asids = {ttbr0 >> 48 for rec, ttbr0 in zip(vizor_run.exceptions, vizor_run.ttbr0_at)
                 if rec.kind == "sync" and rec.ec == X.EC_SVC}
    assert svc_asids == {1, 2, 3, 4}
    tables = {ttbr0 & ((1 << 48) - 1) for ttbr0 in vizor_run.ttbr0_at}
    assert len(tables) >= 4


def test_idle_loop_waits_in_the_high_half(vizor_run, minios_symbols):
    # IRQs taken at EL1 interrupt the idle task's WFI in kernel_main
    idle = [r for r in vizor_run.exceptions if r.kind == "irq" and r.from_el == 1]
    assert idle
    main = minios_symbols["kernel_main"]
    assert all(main <= r.elr < main + 0x1000 for r in idle)


@pytest.mark.parametrize("name", ["schedule", "svc_handler", "irq_handler", "vectors"])
def test_ttbr1_walk_maps_kernel_symbol_to_guest_ram(vizor_run, minios_symbols, name):
    board = vizor_run.board
    va = minios_symbols[name]
    assert va >= KVA
    walk = translate_el10(va, translation_regs(board.cores[0]), board.read_phys, "x", 1)
    assert walk.fault is None
    assert walk.stage2 is not None and walk.vmid == 1
    assert walk.output == GUEST_PA + (va - KVA)
    # the stage-1 walk started at TTBR1_EL1's table
    ttbr1 = board.cores[0].sysreg("TTBR1_EL1") & ((1 << 48) - 1)
    assert walk.steps[0].stage == 1 and walk.steps[0].table_base == ttbr1


def test_device_window_is_mapped_in_the_kernel_high_half(vizor_run):
    board = vizor_run.board
    walk = translate_el10(KVA | 0x3F215040, translation_regs(board.cores[0]), board.read_phys, "w", 1)
    assert walk.fault is None and walk.output == 0x3F215040
    assert walk.mem_type.startswith("Device")


def test_el0_processes_make_system_calls_and_are_preempted(vizor_run, minios_symbols):
    svcs = [r for r in vizor_run.exceptions if r.kind == "sync" and r.ec == X.EC_SVC]
    assert svcs and all(r.from_el == 0 and r.to_el == 1 for r in svcs)
    assert all(USER_TEXT <= r.elr < USER_STACK_TOP for r in svcs)
    lines = sum(len(v) for v in EXPECTED.values())
    assert len(svcs) >= 2 * lines           # getpid + write per line, at least
    # timer IRQs taken from EL0 in the middle of the worker's computation
    worker = minios_symbols["user_worker"]
    preempted = [r for r in vizor_run.exceptions if r.kind == "irq" and r.from_el == 0
                 and worker <= r.elr < minios_symbols["user_yielder"]]
    assert len(preempted) >= 3
    # the core's own exception log (the most recent ones) agrees
    assert any(r.kind == "sync" and r.ec == X.EC_SVC and r.from_el == 0
               for r in vizor_run.board.cores[0].exceptions)
    # no exception other than SVC and IRQ, and none reached EL2
    assert all(r.to_el == 1 and (r.kind == "irq" or r.ec == X.EC_SVC) for r in vizor_run.exceptions)


def test_minios_elf_places_segments_by_ipa_and_runs_high():
    with open(MINIOS, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_entry"] == 0
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        for seg in loads:
            va, pa = seg["p_vaddr"], seg["p_paddr"]
            assert pa < 0x01000000
            assert va in (pa, KVA | pa) or USER_TEXT <= va < USER_STACK_TOP
        assert any(s["p_vaddr"] == KVA | s["p_paddr"] and s["p_paddr"] for s in loads)
        assert elf.get_section_by_name(".symtab") is not None


def test_harness_entered_at_el3_runs_the_same_processes():
    # QEMU -kernel harness.elf (and vizor --boot-el 3) start every core at the entry in EL3
    board = Board()
    board.load(load_image(HARNESS, 3), 3)
    out: list[str] = []
    board.uart_listeners.append(lambda uart, b: out.append(chr(b)) if uart == "mini" else None)
    reason = board.run(max_insns=BUDGET, stop=lambda: "done" if DONE in "".join(out[-80:]) else None)
    assert reason.kind == "stop", reason
    assert per_pid("".join(out).replace("\r\n", "\n")) == EXPECTED
    assert board.cores[0].el in (0, 1)
    assert [c.el for c in board.cores[1:]] == [3, 3, 3]       # parked by the harness


def run_qemu_mini(path: str, until: str, timeout: float = 40.0) -> str:
    """QEMU raspi3b with the mini UART (second serial) on stdout."""
    cmd = [QEMU, "-M", "raspi3b", "-kernel", path, "-display", "none", "-monitor", "none",
           "-nodefaults", "-serial", "null", "-serial", "stdio", "-no-reboot"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while until.encode() not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    return out.decode(errors="replace").replace("\r\n", "\n")


@requires_qemu
def test_per_pid_sequences_match_qemu(vizor_run):
    qemu = run_qemu_mini(HARNESS, DONE)
    assert DONE in qemu, qemu
    assert per_pid(qemu) == per_pid(vizor_run.text) == EXPECTED, qemu
    banner = [l for l in qemu.splitlines() if l.startswith("minios: MPIDR_EL1")]
    assert banner == ["minios: MPIDR_EL1=0x0000000080000000 MIDR_EL1=0x00000000410fd034"]
