"""The TUI's keys: bindings, the ``?`` help lines and the prompts' placeholders (data
only; what each key does is in app.py and its mixins)."""

from __future__ import annotations

from textual.binding import Binding

from vizor.app.session_keys import SESSION_BINDINGS, SESSION_HELP

# The tabs on the right, in order: (id, label).  Labels are short so that the
# bar fits the right column at 120 columns; `[` and `]` reach every one.
TABS = (("tab-sysregs", "Sysregs"), ("tab-walk", "Walk"), ("tab-irq", "IRQs"),
        ("tab-events", "Events"), ("tab-stops", "Stops"), ("tab-fb", "Framebuffer"))

BINDINGS = [
    Binding("space", "run_pause", "Run/Pause"),
    Binding("s", "step", "Step"),
    Binding("n", "step_more('over')", "Over"),
    Binding("o", "step_more('out')", "Out"),
    Binding("v", "step_more('vm')", "In VM"),
    *SESSION_BINDINGS,         # shown in `vizor replay` only (app.ReplayApp); next to the steps there
    Binding("plus", "prompt('count')", "Run N", show=False),
    Binding("r", "prompt('vmid')", "Until VMID", show=False),
    Binding("1", "select(0)", "Core 1", show=False),
    Binding("2", "select(1)", "Core 2", show=False),
    Binding("3", "select(2)", "Core 3", show=False),
    Binding("4", "select(3)", "Core 4", show=False),
    Binding("b", "dialog('break')", "Break"),
    Binding("t", "prompt('break')", "Toggle bp", show=False),
    Binding("p", "dialog('watch')", "Watch", show=False),
    Binding("e", "dialog('catch')", "Event stop", show=False),
    Binding("k", "stops", "Stops"),
    Binding("g", "prompt('goto')", "Go to"),
    Binding("equals_sign", "prompt('edit')", "Edit", show=False),
    Binding("w", "walk", "Walk"),
    Binding("left_square_bracket", "tab(-1)", "Tab", show=False),
    Binding("right_square_bracket", "tab(1)", "Tabs", key_display="[ ]"),
    Binding("c", "console", "Console"),
    Binding("u", "switch_uart", "UART", show=False),
    Binding("question_mark", "help", "Help"),
    Binding("q", "quit_vizor", "Quit"),
]

HELP = (("space", "run / pause the board (pauses within 100 ms)"),
        ("s", "step one instruction on the selected core"),
        ("n", "step over: one instruction, a BL/BLR runs to its return"),
        ("o", "step out: run until the current function returns"),
        ("v", "step in VM: the selected core's next instruction in the same VM "
              "(the hypervisor and other VMs run in between)"),
        ("+", "run N instructions (all cores together; asks N) — edits are recorded where it ends"),
        ("r", "run until a VMID is scheduled on a core (asks the VMID)"),
        ("1 2 3 4", "select core 0, 1, 2, 3 (cores, registers, disassembly follow it)"),
        ("b", "breakpoint dialog: address or symbol, VMID, EL, core, condition, ignore count"),
        ("t", "toggle a breakpoint quickly: ADDR [@vmid=N] [@el=N] [@core=N] (empty: the one "
              "marked at the PC, whatever its filters); on a disabled one, enables it"),
        ("p", "watchpoint dialog: PA or VA, read/write/access, length, VMID, EL, core"),
        ("e", "event stop dialog: exception, vm-exit, vm-entry, sysreg REG, mmio"),
        ("k", "the Stops tab: every stop condition with hits; Enter enables/disables, d deletes"),
        ("g", "go to an address: disassembly and translation walk"),
        ("=", "edit the selected core: REG = VALUE, or b|h|w|x[ADDR] = VALUE (RAM at a VA)"),
        ("w", "the Walk tab (translation): type a VA, Enter walks it"),
        ("[ ]", "previous / next tab: Sysregs, Walk, IRQs, Events, Stops, Framebuffer"),
        ("c", "focus the console: keys (Tab too) go to the guest's UART; Esc comes back"),
        ("u", "switch the console between the PL011 and the mini UART"),
        ("tab / shift+tab", "move the focus between inputs and tables (never into the console)"),
        *SESSION_HELP, ("?", "this help (arrows and PgUp/PgDn scroll it)"), ("q", "quit"))

PLACEHOLDERS = {
    "break": "toggle breakpoint: ADDR [@vmid=N] [@el=N] [@core=N]  (empty: PC; Esc cancels)",
    "vmid": "run until VMID (0-255) is scheduled on a core  (Esc cancels)",
    "count": "run N instructions (all cores together)  (Esc cancels)",
    "record": "record the session to FILE  (Esc cancels)",
    "seek": "jump to instruction count N  (Esc cancels)",
    "edit": "edit core: x5 = 0x10 | pc = main | w[0x80000] = 1  (Esc cancels)",
}
GOTO_PLACEHOLDER = "go to: ADDR (hex, symbol, symbol+off; Esc cancels)"
