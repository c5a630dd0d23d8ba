"""What a packet asks of the board: registers, memory, threads, breakpoints.

Every function here runs in the machine thread (inside a ``calls.Call``) and
takes the runner.  Errors are ``TargetError`` (the server answers ``E``
with the message logged); register and memory writes go through
``vizor.driver.edits.apply_edit``, as the TUI's ``=`` edits do, so a
recording notes them and a replay refuses them.

Memory is addressed by VA, translated through the core's current regime
(EL1/EL0: stage 1 and, with HCR_EL2.VM, stage 2; EL2: TTBR0_EL2; EL3 only
with its MMU off, VA = PA), page by page.  Only RAM is read or written: a
device register's read has side effects (a UART's data register pops a
byte), so an address that is not RAM gets an error like one that does not
translate.
"""

from __future__ import annotations

from vizor.driver.commands import EditMemory, EditRegister
from vizor.driver.edits import EditError, apply_edit, register_name
from vizor.gdb.registers import REGS, Reg
from vizor.machine.arch.mmu import UnsupportedGranule, translate_el10, walk_stage1
from vizor.machine.arch.sysregs import encoding_of
from vizor.machine.board.board import RAM_MAPPED
from vizor.machine.cpu.faults import translation_regs
from vizor.machine.cpu.regs import DIRECT, ENC

PAGE = 0x1000
MAX_READ = 0x1000             # bytes per m packet (the reply is twice that in hex)
_MASK64 = (1 << 64) - 1


class TargetError(Exception):
    """Refused: the reason, in one line (logged; gdb is told E01)."""


# --- registers ---------------------------------------------------------------------

def read_register(core, reg: Reg) -> int | None:
    """The value gdb sees, or None when vizor cannot read it (sent as unavailable)."""
    src, name, regs = reg.source, reg.name, core.regs
    if src == "x":
        return regs.x(int(name[1:]))
    if src == "sp":
        return regs.read("SP")
    if src == "pc":
        return core.pc
    if src == "cpsr":
        return core.pstate & 0xFFFFFFFF
    if src == "pstate":
        return core.pstate & (0xC if name == "CurrentEL" else 0x3C0)
    if src == "timer":
        return core.timer.read_sysreg(name) if core.timer is not None else None
    if src == "v":
        vector = getattr(regs, "vector", None)
        return vector(int(name[1:])) if vector is not None else None
    if src == "fp":
        return regs.read(name.upper()) if name.upper() in DIRECT else None
    if name == "MPIDR_EL1":
        return core.mpidr           # the core's own (an EL1 read would give VMPIDR_EL2)
    if name == "HCR_EL2":
        return core.sysreg(name)
    if name in DIRECT or name in ENC:
        return regs.read(name)
    return regs.read_enc(encoding_of(name))


def encode(reg: Reg, value: int | None) -> bytes:
    width = reg.bits // 8
    if value is None:
        return b"xx" * width
    return (value & ((1 << reg.bits) - 1)).to_bytes(width, "little").hex().encode()


def read_all(runner, core_index: int) -> bytes:
    core = runner.board.cores[core_index]
    return b"".join(encode(r, read_register(core, r)) for r in REGS)


def read_one(runner, core_index: int, regnum: int) -> bytes:
    if not 0 <= regnum < len(REGS):
        raise TargetError(f"no register {regnum}")
    reg = REGS[regnum]
    return encode(reg, read_register(runner.board.cores[core_index], reg))


def write_one(runner, core_index: int, regnum: int, value: int) -> None:
    """Write one register (unchanged values are always accepted)."""
    if not 0 <= regnum < len(REGS):
        raise TargetError(f"no register {regnum}")
    reg = REGS[regnum]
    core = runner.board.cores[core_index]
    if read_register(core, reg) == value:
        return
    if reg.source not in ("x", "sp", "pc", "sys"):
        raise TargetError(f"{reg.name} cannot be written from gdb")
    try:
        name = register_name(reg.name)
        apply_edit(runner, EditRegister(core_index, name, value & _MASK64))
    except EditError as e:
        raise TargetError(str(e)) from None
    runner._publish_snapshot()


def write_all(runner, core_index: int, data: bytes) -> None:
    """A G packet: every register whose value changed is written."""
    at = 0
    for num, reg in enumerate(REGS):
        width = reg.bits // 8
        chunk = data[at:at + width]
        at += width
        if len(chunk) < width:
            break
        write_one(runner, core_index, num, int.from_bytes(chunk, "little"))


# --- memory --------------------------------------------------------------------------

def pa_of(core, va: int) -> int:
    """The PA of ``va`` through the core's current regime (TargetError if none)."""
    if core.el == 3:
        if core.regs.read("SCTLR_EL3") & 1:
            raise TargetError(f"core {core.index} is at EL3 with its MMU on, which vizor does not translate")
        return va
    regs, read = translation_regs(core), core.board.read_phys
    try:                           # read as the kernel would: an EL0 core's EL1 mappings too
        walk = (walk_stage1(va, regs, read, "el2", "r", 2) if core.el == 2
                else translate_el10(va, regs, read, "r", 1))
    except UnsupportedGranule as e:
        raise TargetError(f"VA {va:#x} on core {core.index}: {e}") from None
    if walk.fault is not None or walk.output is None:
        why = walk.fault.name if walk.fault is not None else "no output"
        raise TargetError(f"VA {va:#x} does not translate on core {core.index}: {why}")
    return walk.output


def read_memory(runner, core_index: int, va: int, length: int) -> bytes:
    """Up to ``length`` bytes at ``va``: as many as translate to RAM from the
    start (gdb accepts a short read); TargetError if not even the first does."""
    board = runner.board
    core = board.cores[core_index]
    out = bytearray()
    length = min(length, MAX_READ)
    while len(out) < length:
        addr = (va + len(out)) & _MASK64
        n = min(length - len(out), PAGE - (addr & (PAGE - 1)))
        try:
            pa = pa_of(core, addr)
            if pa + n > RAM_MAPPED:
                raise TargetError(f"VA {addr:#x} is PA {pa:#x}, not RAM (device registers are not read)")
        except TargetError:
            if out:
                break
            raise
        out += board.read_ram(pa, n)
    return bytes(out)


def write_memory(runner, core_index: int, va: int, data: bytes) -> None:
    """Bytes at ``va``, as edits of at most 8 bytes that do not cross a page."""
    done = 0
    while done < len(data):
        addr = (va + done) & _MASK64
        n = min(8, len(data) - done, PAGE - (addr & (PAGE - 1)))
        value = int.from_bytes(data[done:done + n], "little")
        try:
            apply_edit(runner, EditMemory(core_index, addr, n, value))
        except EditError as e:
            raise TargetError(str(e)) from None
        done += n
    if data:
        runner._publish_snapshot()


# --- threads ---------------------------------------------------------------------------

def thread_info(runner, core_index: int) -> str:
    """"core 2 EL1 VMID 3 running" (qThreadExtraInfo)."""
    core = runner.board.cores[core_index]
    el = core.el
    vmid = core.vmid(el)
    ctx = f" VMID {vmid}" if vmid is not None else ""
    return f"core {core_index} EL{el}{ctx} {core.state}"


def vmid_lines(runner) -> list[str]:
    """What each core runs (monitor vmid)."""
    out = []
    for core in runner.board.cores:
        el = core.el
        vmid = core.vmid(el)
        if vmid is not None:
            what = f"VMID {vmid} at EL{el}"
        else:
            loaded = (core.sysreg("VTTBR_EL2") >> 48) & 0xFF
            stage2 = "on" if core.hcr & 1 else "off"
            what = (f"the hypervisor (EL{el}), stage 2 {stage2}, VMID {loaded} loaded" if el == 2
                    else f"EL{el}, no guest context")
        out.append(f"core {core.index}: {what}, {core.state}, PC {runner.board.contexts.format(core, core.pc)}")
    return out
