"""Setting, toggling and naming stop conditions for the runner (the machine thread's
side of the keys b p e t and the Stops tab).  Messages name a breakpoint's address
by its symbol in the context its filters give ("breakpoint 1 set at schedule
(0x80a40) vmid=3").  No textual, no rich."""

from __future__ import annotations

from vizor.driver.commands import AddBreakpoint, AddWatchpoint, Notice, ToggleBreakpoint
from vizor.machine.board.board import RAM_MAPPED as RAM_TOP
from vizor.machine.inspect.snapshot import walk_state


def where(board, address: int, vmid: int | None) -> str:
    """``schedule+0x4 (0x80a44)`` in VMID ``vmid``'s table (the hypervisor's without one),
    or the bare address when no symbol is near."""
    contexts = getattr(board, "contexts", None)
    hit = contexts.table(vmid).lookup(address) if contexts is not None else None
    if hit is None or hit[1] >= 0x1000:
        return f"{address:#x}"
    name, off = hit
    return f"{name}{f'+{off:#x}' if off else ''} ({address:#x})"


def describe(board, cond) -> str:
    """The engine's describe(), with a breakpoint's address and a watchpoint's VA named
    by their symbol (what the messages and the Stops tab show)."""
    text = cond.describe()
    address = getattr(cond, "address", None)
    vmid = cond.filters.vmid if hasattr(cond, "filters") else None
    if address is not None and text.startswith(f"break {address:#x}"):
        text = f"break at {where(board, address, vmid)}" + text[len(f"break {address:#x}"):]
    va = getattr(cond, "va", None)
    if va is not None and f"VA {va:#x} " in text:
        text = text.replace(f"VA {va:#x} ", f"VA {where(board, va, vmid)} ", 1)
    return text


def add_stop(runner, cmd) -> None:
    dbg = runner.debugger
    if isinstance(cmd, AddBreakpoint):
        if cmd.check_core is not None:
            problem = not_in_ram(runner, cmd.check_core, cmd.address)
            if problem:
                raise ValueError(problem)
        c = dbg.add_breakpoint(cmd.address, vmid=cmd.vmid, el=cmd.el, core=cmd.core,
                               condition=cmd.condition, ignore=cmd.ignore, world=cmd.world)
        runner._note_breakpoint("add", c)
    elif isinstance(cmd, AddWatchpoint):
        at = {"pa": cmd.address} if cmd.space == "pa" else {"va": cmd.address, "via_core": cmd.via_core}
        c = dbg.add_watchpoint(length=cmd.length, reads=cmd.reads, writes=cmd.writes,
                               vmid=cmd.vmid, el=cmd.el, core=cmd.core, world=cmd.world, **at)
    else:
        c = dbg.add_event_stop(cmd.kind, ec=cmd.ec, exc_kind=cmd.exc_kind, vmid=cmd.vmid,
                               to_el=cmd.to_el, register=cmd.register, core=cmd.core, world=cmd.world)
    runner.publish(Notice(f"{c.id}: {describe(runner.board, c)}"))


def toggle(runner, cmd: ToggleBreakpoint) -> None:
    """Remove the breakpoint with these filters at this address; enable it if it is
    disabled; else add one.  With ``cmd.pc_of`` (the empty prompt at a core's PC), the
    breakpoint that core's disassembly marks at the PC (the first set there that is
    not for another core), whatever its filters."""
    dbg = runner.debugger
    for bp in dbg.breakpoints:
        if cmd.pc_of is not None:
            mine = bp.address == cmd.address and bp.core in (None, cmd.pc_of)
        else:
            mine = (bp.address, bp.vmid, bp.el, bp.core, bp.filters.world) == \
                (cmd.address, cmd.vmid, cmd.el, cmd.core, cmd.world)
        if mine:
            at = where(runner.board, bp.address, bp.vmid)
            if not bp.enabled:
                dbg.set_enabled(bp.id, True)
                runner.publish(Notice(f"breakpoint {bp.id} at {at} enabled (t again removes it)"))
                return
            dbg.remove_breakpoint(bp.id)
            runner._note_breakpoint("remove", bp)
            runner.publish(Notice(f"breakpoint {bp.id} at {at} removed"))
            return
    problem = "" if cmd.check_core is None else not_in_ram(runner, cmd.check_core, cmd.address)
    if problem:
        raise ValueError(problem)
    bp = dbg.add_breakpoint(cmd.address, vmid=cmd.vmid, el=cmd.el, core=cmd.core, world=cmd.world)
    runner._note_breakpoint("add", bp)
    runner.publish(Notice(f"breakpoint {bp.id} set: {describe(runner.board, bp)}"))


def not_in_ram(runner, core: int, va: int) -> str:
    """Why ``va`` cannot hold code of this board ("" if it can): neither a RAM
    address nor translated to RAM by the core's current regime."""
    if 0 <= va < RAM_TOP:
        return ""
    w = walk_state(runner.board.cores[core], va)
    if w.walk is not None and w.walk.fault is None and w.walk.output < RAM_TOP:
        return ""
    return (f"{va:#x} is outside RAM (0-{RAM_TOP - 1:#x}) and core {core}'s tables "
            f"do not map it to RAM")
