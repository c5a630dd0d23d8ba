"""The plain-text summary ``vizor run`` prints when a run ends."""

from __future__ import annotations

from collections import Counter

from vizor.machine.clock import CPU_HZ, counter_at


def summary(board, reason) -> str:
    cyc = board.virtual_time
    lines = [f"-- vizor: stopped ({reason.kind}: {reason.detail})",
             f"   {board.instructions:,} instructions, virtual time {cyc / CPU_HZ * 1e3:.3f} ms "
             f"(CNTPCT {counter_at(cyc):#x})"]
    for c in board.cores:
        pc = c.pc
        vmid = c.vmid()
        where = board.contexts.format(c, pc)
        extra = f" VMID {vmid}" if vmid is not None else ""
        fault = f"  [{c.fault}]" if c.fault else ""
        lines.append(f"   core {c.index}: EL{c.el}{extra} {c.state:<7} PC {where}  "
                     f"{c.instructions:,} insns{fault}")
    skipped = sum(c.skipped for c in board.cores)
    if skipped:
        lines.append(f"   skipped: {skipped:,} of those instructions were counted, not executed "
                     f"(cores spinning in `b .` or polling the timer; --no-skip-idle runs them)")
    total: Counter[str] = Counter()
    for c in board.cores:
        total.update(c.exception_counts)
    if total:
        lines.append("   exceptions: " + ", ".join(f"{k} {v}" for k, v in total.most_common()))
    if board.bus.unmodelled:
        lines.append(f"   unmodelled MMIO: {len(board.bus.unmodelled)} addresses "
                     f"(first: {board.bus.unmodelled[0]})")
    return "\n".join(lines)
