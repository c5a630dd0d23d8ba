"""Interrupts and mailboxes: the ARM-local block per core (IRQ/FIQ sources by name, timer
and mailbox interrupt controls, the sixteen mailboxes), the BCM2835 controller, and each
core's generic timers.  Bits that changed since the previous refresh are highlighted."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

import vizor.machine.arch.decode as D
from vizor.panes.common import CHANGED, SnapshotPane, TextGrid

_TIMERS = (("CNTP", "EL0"), ("CNTV", "EL0"), ("CNTHP", "EL2"), ("CNTPS", "EL1"))


def _src_names(value: int) -> str:
    return " ".join(n.replace("MAILBOX", "MB") for n in D.set_flags(value, D.CORE_IRQ_SOURCE)) or "-"


def _ctl_text(ctl: int) -> str:
    return ("EN" if ctl & 1 else "--") + (" IMASK" if ctl & 2 else "") + (" ISTATUS" if ctl & 4 else "")


class InterruptsPane(SnapshotPane):
    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._prev = None

    def view_key(self, snap):
        return (snap.interrupts, tuple(tuple(c.timers.values()) for c in snap.cores))

    def render_snapshot(self, snap):
        prev, self._prev = self._prev, snap
        i = snap.interrupts
        p = prev.interrupts if prev is not None else None

        def cell(text: str, now, before) -> Text:
            return Text(text, style=CHANGED if p is not None and now != before else "")

        local = i.arm_local
        t = TextGrid("ARM-local (0x40000000)")
        for col in ("core", "IRQ source", "FIQ source", "timer ctl", "mbox ctl", "mailbox 0-3"):
            t.add_column(col, no_wrap=True)
        pl = p.arm_local if p is not None else None
        for n in range(4):
            boxes = Text()
            for m in range(4):
                v = local.mailboxes[n][m]
                before = pl.mailboxes[n][m] if pl is not None else v
                boxes.append(f"{v:08x}", style=CHANGED if v != before else ("bold" if v else "dim"))
                boxes.append(" ")
            t.add_row(
                Text(str(n), style="bold"),
                cell(_src_names(i.irq_source[n]), i.irq_source[n], p and p.irq_source[n]),
                cell(_src_names(i.fiq_source[n]), i.fiq_source[n], p and p.fiq_source[n]),
                cell(f"{local.timer_int_control[n]:02x}", local.timer_int_control[n],
                     pl and pl.timer_int_control[n]),
                cell(f"{local.mailbox_int_control[n]:02x}", local.mailbox_int_control[n],
                     pl and pl.mailbox_int_control[n]),
                boxes)
        routing = Text(f"GPU IRQ -> core {local.gpu_routing & 3}, GPU FIQ -> core {local.gpu_routing >> 2 & 3}"
                       f"   local timer {local.local_timer:#x}{' fired' if local.local_timer_flag else ''}",
                       style="dim")
        ic = i.controller
        pc = p.controller if p is not None else None
        g = TextGrid("BCM2835 interrupt controller (0x3F00B200)")
        g.add_column("register", no_wrap=True)
        g.add_column("value", no_wrap=True)
        g.add_column("set bits", overflow="fold")
        g.add_row("basic pending", cell(f"{i.basic_pending:08x}", i.basic_pending, p and p.basic_pending),
                  D.decode_basic_pending(i.basic_pending).summary)
        for bank in (0, 1):
            v = i.gpu_pending >> (32 * bank) & 0xFFFFFFFF
            was = (p.gpu_pending >> (32 * bank) & 0xFFFFFFFF) if p else v
            g.add_row(f"pending {bank + 1}", cell(f"{v:08x}", v, was), D.decode_gpu_pending(v, bank).summary)
        for bank in (0, 1):
            v = ic.gpu_enable >> (32 * bank) & 0xFFFFFFFF
            was = (pc.gpu_enable >> (32 * bank) & 0xFFFFFFFF) if pc else v
            g.add_row(f"enable {bank + 1}", cell(f"{v:08x}", v, was), D.decode_gpu_pending(v, bank).summary)
        g.add_row("basic enable", cell(f"{ic.basic_enable:02x}", ic.basic_enable, pc and pc.basic_enable), "")
        g.add_row("FIQ control", cell(f"{ic.fiq_control:02x}", ic.fiq_control, pc and pc.fiq_control),
                  f"source {ic.fiq_control & 0x7F}" if ic.fiq_control & 0x80 else "FIQ off")
        tm = TextGrid("generic timers (CTL, TVAL)")
        tm.add_column("core", no_wrap=True)
        for name, _ in _TIMERS:
            tm.add_column(name, no_wrap=True)
        for c in snap.cores:
            pcore = prev.cores[c.index] if prev is not None else None
            row = [Text(str(c.index), style="bold")]
            for name, el in _TIMERS:
                ctl = c.timers.get(f"{name}_CTL_{el}", 0)
                tval = c.timers.get(f"{name}_TVAL_{el}", 0)
                tval = tval - (1 << 32) if tval & (1 << 31) else tval
                before = pcore.timers.get(f"{name}_CTL_{el}", 0) if pcore is not None else ctl
                text = _ctl_text(ctl) + (f" {tval:+d}" if ctl & 1 else "")
                row.append(Text(text, style=CHANGED if ctl != before else ("bold" if ctl & 4 else "")))
            tm.add_row(*row)
        st = i.system_timer
        sys_line = Text(f"system timer CLO {i.system_timer_count & 0xFFFFFFFF:#x}  CS {st.cs:#x}  "
                        f"C0-C3 " + " ".join(f"{v:#x}" for v in st.compare), style="dim")
        return Group(t, routing, g, tm, sys_line)
