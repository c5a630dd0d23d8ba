"""The TUI's stop conditions: what the keys b t p e k n o v r do, the stop banner and
the Breakpoints tab.  A mixin of ``VizorApp`` (kept apart to keep app.py short);
it only turns input into runner commands and runner answers into the view."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static, TabbedContent

import vizor.driver.runner as R
from vizor.app.messages import StopReported, StopsChanged
from vizor.app.stop_commands import DialogContext, command_for
from vizor.machine.arch.mmu import unreachable
from vizor.machine.debug.stops import check_world
from vizor.panes.breakpoints import BreakpointsPane, StopEdited
from vizor.panes.common import EL2, BadInput, parse_address, parse_number, sym, table_of
from vizor.panes.stopdialog import StopDialog


class StopControls:
    def on_stops_changed(self, message: StopsChanged) -> None:
        self.query_one(BreakpointsPane).show(message.stops)

    def on_stop_reported(self, message: StopReported) -> None:
        r = message.report
        parts = ["■ STOPPED"]
        if r.core is not None:
            parts.append(f"core {r.core}")
            parts.append("no VM" if r.vmid is None else f"VMID {r.vmid}")
            if r.world is not None or r.el is not None:
                parts.append(r.world or f"EL{r.el}")
            if r.pc is not None:
                name = sym(table_of(self.symbols, r.vmid), r.pc)
                parts.append(f"PC {r.pc:#x}" + (f" <{name}>" if name else ""))
        parts.append(r.text)
        self._stop_text = "  │  ".join(parts)
        bar = self.query_one("#stop", Static)
        hit = r.kind not in ("pause", "stop", "max_insns", "step")
        bar.set_class(hit, "hit")
        bar.update(Text(self._stop_text))     # a layout: a long banner wraps to a second line
        if hit and r.core is not None and r.core != self.selected:
            self.action_select(r.core)  # show the core that stopped

    def on_stop_edited(self, event: StopEdited) -> None:
        if event.action == "delete":
            self.runner.send(R.RemoveStop(event.id))
        else:
            self.runner.send(R.EnableStop(event.id, event.action == "enable"))

    def action_dialog(self, kind: str) -> None:
        snap = self.snapshot
        ctx = DialogContext(self.symbols, snap.cores[self.selected].pc if snap is not None else None,
                            self.selected, self._here())

        def done(cmd) -> None:
            if cmd is not None:
                self.runner.send(cmd)
        self.push_screen(StopDialog(kind, command_for(ctx)), done)

    def action_stops(self) -> None:
        self.query_one(TabbedContent).active = "tab-stops"
        self.query_one("#stops-table").focus()

    def action_step_more(self, how: str) -> None:
        snap = self.snapshot
        if how == "vm" and snap is not None and snap.cores[self.selected].vmid is None:
            self.say(f"core {self.selected} is not running a VM (step in VM needs EL1/EL0 with stage 2 on)",
                     error=True)
            return
        self.runner.send(R.StepMore(self.selected, how))

    def _breakpoint_command(self, text: str) -> R.ToggleBreakpoint:
        worlds = [w[1:].lower() for w in text.replace("@", " @").split() if w.lower() in ("@secure", "@ns")]
        if len(worlds) > 1:
            raise BadInput("one world only (@secure or @ns)")
        world = worlds[0] if worlds else None
        words = [w for w in text.replace("@", " @").split() if w.lower() not in ("@secure", "@ns")]
        words = " ".join(words).replace("@", " ").split()
        filters = {}
        addr_words = [w for w in words if "=" not in w]
        for w in words:
            if "=" in w:
                key, _, value = w.partition("=")
                key = key.strip().lower()
                if key not in ("vmid", "el", "core"):
                    raise BadInput(f"unknown breakpoint filter {key!r} (vmid=, el=, core=)")
                filters[key] = parse_number(value, key.upper() if key != "core" else "core")
        if len(addr_words) > 1:
            raise BadInput(f"one address please, not {' '.join(addr_words)!r}")
        snap = self.snapshot
        if addr_words:
            context = (filters["vmid"] if filters.get("vmid") is not None
                       else EL2 if (filters.get("el") or 0) >= 2 else self._here())
            addr = parse_address(addr_words[0], self.symbols, context)
        elif snap is not None:
            addr = snap.cores[self.selected].pc
        else:
            raise BadInput("no address given")
        el, core, vmid = filters.get("el"), filters.get("core"), filters.get("vmid")
        if el is not None and el not in (0, 1, 2, 3):
            raise BadInput(f"EL{el} does not exist (EL0-EL3)")
        if core is not None and core not in range(4):
            raise BadInput(f"there is no core {core} (cores 0-3)")
        if vmid is not None:
            # any VMID the architecture allows: the VM need not have run yet (set
            # `schedule @vmid=3` at reset, before the guests start)
            if not 0 <= vmid <= 255:
                raise BadInput(f"VMID {vmid} is out of range (0-255 with 8-bit VMIDs)")
            if el is not None and el >= 2:
                raise BadInput(f"a VMID filter needs EL0 or EL1, not EL{el}")
        try:
            check_world(world, el, vmid)
        except ValueError as e:
            raise BadInput(str(e)) from None
        if unreachable(addr, el):
            raise BadInput(unreachable(addr, el))
        # a guest VA is checked against the selected core's tables only when no VMID names the context
        return R.ToggleBreakpoint(addr, vmid=vmid, el=el, core=core, world=world,
                                  check_core=self.selected if vmid is None else None,
                                  pc_of=self.selected if not text.strip() else None)
