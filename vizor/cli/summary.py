"""The plain-text summary ``vizor run`` prints when a run ends, and the stream
vizor's own lines after a run go to."""

from __future__ import annotations

import sys
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
                     f"(cores spinning, waiting, or polling the timer or an idle UART; --no-skip-idle runs them)")
    total: Counter[str] = Counter()
    for c in board.cores:
        total.update(c.exception_counts)
    if total:
        lines.append("   exceptions: " + ", ".join(f"{k} {v}" for k, v in total.most_common()))
    if board.bus.unmodelled:
        lines.append(f"   unmodelled MMIO: {len(board.bus.unmodelled)} addresses "
                     f"(first: {board.bus.unmodelled[0]})")
    return "\n".join(lines)


class Notices:
    """vizor's own lines after a run (notices, the summary): on stderr, while
    stdout carries the guest's UART output (and the reports asked for with
    --state, --walk or a stop condition).  On a terminal both show
    together, and a guest whose output does not end in a newline would have
    the first of them continue its last line; that one starts with a newline
    instead (on stderr, so stdout stays the guest's bytes).  ``line_open``:
    something was printed and the last character was not a newline."""

    def __init__(self, line_open: bool) -> None:
        self.line_open = line_open

    def print(self, text: str) -> None:
        if self.line_open:
            text = "\n" + text
            self.line_open = False
        print(text, file=sys.stderr, flush=True)
