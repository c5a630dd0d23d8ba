"""The TUI: ``vizor boot [IMAGE]`` — live panes over the running four-core board.

A thin App: it composes the panes, maps keys to commands for the runner (one
queue, see ``vizor/driver/runner.py``) and hands each snapshot the runner publishes to
the panes.  ``vizor boot`` and ``vizor replay`` give it a ``remote.RemoteRunner``
(the board in its own process), whose relay loop runs in a thread worker; a
plain Runner (tests) is served in that worker itself.  Nothing here reads
Unicorn.
"""

from __future__ import annotations

import sys

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

import vizor.driver.runner as R
from vizor.app.keys import BINDINGS, GOTO_PLACEHOLDER, HELP, PLACEHOLDERS, TABS
from vizor.app.messages import (
    CodeReady,
    NoticePosted,
    SnapshotReady,
    WalkReady,
    message_for,
)
from vizor.app.session_keys import REPLAY_FOOTER, SessionControls
from vizor.app.stop_keys import StopControls
from vizor.app.view_keys import ViewControls
from vizor.machine.inspect.symbols import Symbols
from vizor.panes.breakpoints import BreakpointsPane
from vizor.panes.common import BadInput, parse_address, parse_number
from vizor.panes.console import ConsolePane, ConsoleTyped
from vizor.panes.cores import CoresPane
from vizor.panes.disasm import DisassemblyPane
from vizor.panes.events import EventsPane
from vizor.panes.framebuffer import FramebufferPane
from vizor.panes.interrupts import InterruptsPane
from vizor.panes.sysregs import SysregsPane
from vizor.panes.timeline import Timeline
from vizor.panes.translation import REGIMES, TranslationPane, WalkRequested


class VizorApp(ViewControls, SessionControls, StopControls, App):
    CSS_PATH = "app.tcss"
    TITLE = "vizor"
    AUTO_FOCUS = None
    ENABLE_COMMAND_PALETTE = False        # its footer entry cut "q Quit" at 120 columns
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = BINDINGS
    HELP = HELP

    def __init__(self, runner, symbols: Symbols | None = None, *, start_running: bool = False,
                 image: str = "", timeline=None, record_path: str | None = None) -> None:
        super().__init__()
        self.runner = runner
        self.symbols = symbols or Symbols()
        self.start_running = start_running
        self.image = image
        self.snapshot = None
        self.selected = 0
        self._prompt_kind = ""
        self._walk_text: str | None = None
        self._walk_stop = -1
        self._stop_text = ""
        self.timeline = timeline          # a TimelineInfo in `vizor replay`, else None
        self.recording: str | None = getattr(runner, "recorder_path", None) if getattr(runner, "recorder", None) else None
        self.record_path = record_path
        runner.publish = lambda obj: self.post_message(message_for(obj))

    def compose(self) -> ComposeResult:
        yield Static("starting…", id="status")
        yield Static("", id="stop")
        if self.timeline is not None:
            yield Timeline(self.timeline, id="timeline")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield CoresPane(self.symbols, id="cores")
                yield ConsolePane(id="console")
            with Vertical(id="right"):
                yield DisassemblyPane(self.symbols, id="disasm")
                label = dict(TABS)
                with TabbedContent(id="tabs"):
                    with TabPane(label["tab-sysregs"], id="tab-sysregs"):
                        with ScrollableContainer():
                            yield SysregsPane(self.symbols, id="sysregs")
                    with TabPane(label["tab-walk"], id="tab-walk"):
                        yield TranslationPane(self.symbols, id="walk")
                    with TabPane(label["tab-irq"], id="tab-irq"):
                        with ScrollableContainer():
                            yield InterruptsPane(self.symbols, id="irq")
                    with TabPane(label["tab-events"], id="tab-events"):
                        with ScrollableContainer():
                            yield EventsPane(self.symbols, id="events")
                    with TabPane(label["tab-stops"], id="tab-stops"):
                        yield BreakpointsPane(id="stops")
                    with TabPane(label["tab-fb"], id="tab-fb"):
                        yield FramebufferPane(id="fb")
        yield Input(id="prompt")
        yield Static("", id="message")
        yield Footer()

    # With a plain Runner in this process (not a RemoteRunner), the machine
    # thread needs the GIL for a moment after every slice (~0.4 ms of
    # emulation); with Python's default 5 ms switch interval it waits that long
    # whenever the UI is rendering.  A shorter interval keeps the board fast.
    SWITCH_INTERVAL = 0.0001

    MIN_SIZE = (120, 36)        # the layout's smallest terminal (tests/test_tui_fit.py)
    _told_small = False

    def on_resize(self, event) -> None:
        """A terminal smaller than MIN_SIZE cuts panes and the footer off: say so
        once (a toast shows whatever the layout hides), again after a resize
        that still does not fit."""
        w, h = event.size
        small = w < self.MIN_SIZE[0] or h < self.MIN_SIZE[1]
        if small and not self._told_small:
            self.notify(f"vizor needs a terminal of at least {self.MIN_SIZE[0]}x{self.MIN_SIZE[1]}; "
                        f"this one is {w}x{h}, so panes and the footer are cut off (q quits)",
                        severity="warning", timeout=30)
        self._told_small = small

    def on_mount(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        if not getattr(self.runner, "in_process", True):   # remote.py: the machine has its own GIL
            self.SWITCH_INTERVAL = self.BURST_INTERVAL = self._switch_interval
        sys.setswitchinterval(self.SWITCH_INTERVAL)
        self.query_one("#cores").border_title = "Cores"
        self.query_one("#console").border_title = "Console"
        self.query_one("#disasm").border_title = "Disassembly"
        self.query_one("#prompt").display = False
        # looked up once: a CSS query per snapshot costs more than rendering one
        self._panes = [self.query_one(f"#{n}") for n in ("cores", "disasm", "sysregs", "irq", "events", "fb")]
        self._console = self.query_one(ConsolePane)
        self._status_bar = self.query_one("#status", Static)
        self._status_text = ""
        screen = self.screen
        for name in ("_compositor_refresh", "_refresh_layout"):
            setattr(screen, name, self._in_one_burst(getattr(screen, name)))
        self.serve_machine()

    # A render (~10 ms) interrupted every 0.1 ms hands the GIL back and forth a
    # hundred times, and on a loaded host each hand-over can wait for a CPU:
    # the UI renders in one burst (the machine thread waits once), then the
    # short interval is back for the machine's callbacks.
    BURST_INTERVAL = 0.02

    def _in_one_burst(self, fn):
        def burst(*a, **kw):
            sys.setswitchinterval(self.BURST_INTERVAL)
            try:
                return fn(*a, **kw)
            finally:
                sys.setswitchinterval(self.SWITCH_INTERVAL)
        return burst

    @work(thread=True, exclusive=True, exit_on_error=False, group="machine")
    def serve_machine(self) -> None:
        self.runner.serve(self.start_running)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.say(f"the machine thread failed: {event.worker.error}", error=True)

    # --- messages from the machine -------------------------------------------------------

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        sys.setswitchinterval(self.BURST_INTERVAL)
        try:
            self._show_snapshot(message.snapshot)
        finally:
            sys.setswitchinterval(self.SWITCH_INTERVAL)

    def _show_snapshot(self, snap) -> None:
        new_stop = self.snapshot is None or snap.stop_serial != self.snapshot.stop_serial
        self.snapshot = snap
        for pane in self._panes:
            pane.snapshot = snap
        self._console.snapshot = snap
        self._status(snap)
        if self.timeline is not None:
            self.query_one(Timeline).now = snap.instructions
        if not snap.running and not self._stop_text:
            self._stop_text = f"■ {snap.reason}"
            self.query_one("#stop", Static).update(self._stop_text)
        if snap.running and self._stop_text != "▶ running (space pauses)":
            self._stop_text = "▶ running (space pauses)"
            bar = self.query_one("#stop", Static)
            bar.set_class(False, "hit")
            bar.update(self._stop_text)         # once per run: back to one line
        if new_stop and not snap.running and self._walk_text is not None:
            self._request_walk(self._walk_text, quiet=True)

    def on_walk_ready(self, message: WalkReady) -> None:
        self.query_one(TranslationPane).walk = message.walk

    def on_code_ready(self, message: CodeReady) -> None:
        stop = self.snapshot.stop_serial if self.snapshot is not None else 0
        self.query_one(DisassemblyPane).show_code(message.code, stop)

    def on_console_typed(self, message: ConsoleTyped) -> None:
        self.runner.send(R.UartInput(message.uart, message.data))

    def on_notice_posted(self, message: NoticePosted) -> None:
        self.say(message.text, error=message.error)

    # --- actions ------------------------------------------------------------------------------

    def action_run_pause(self) -> None:
        running = self.snapshot is not None and self.snapshot.running
        self.runner.send(R.Pause() if running else R.Run())

    def action_step(self) -> None:
        self.runner.send(R.Step(self.selected))

    def action_select(self, core: int) -> None:
        self.selected = core
        for pane in self.query("#cores, #sysregs, #disasm"):
            pane.selected = core
        if self.snapshot is not None:
            self._status(self.snapshot)
        self.say(f"core {core} selected")

    def action_quit_vizor(self) -> None:
        self.runner.send(R.Quit())
        self.exit()

    def on_unmount(self) -> None:
        self.runner.send(R.Quit())
        sys.setswitchinterval(self._switch_interval)

    def action_prompt(self, kind: str) -> None:
        self._prompt_kind = kind
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = PLACEHOLDERS.get(kind, GOTO_PLACEHOLDER)
        prompt.value = ""
        prompt.display = True
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.display = False
        self.set_focus(None)

    def on_key(self, event) -> None:
        if event.key == "escape" and self.query_one("#prompt", Input).display:
            self._close_prompt()
            event.stop()
        elif event.key == "escape" and isinstance(self.focused, Input):
            self.set_focus(None)           # Esc leaves any input box (the Walk tab's too)
            event.stop()

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_prompt()
        try:
            if self._session_prompt(self._prompt_kind, event.value):
                pass
            elif self._prompt_kind == "break":
                self.runner.send(self._breakpoint_command(event.value))
            elif self._prompt_kind == "edit":
                self.runner.send(self._edit_command(event.value))
            elif self._prompt_kind == "count":
                n = parse_number(event.value.replace(",", ""), "instruction count")
                if not 1 <= n <= 1 << 48:
                    raise BadInput(f"run {n:,} instructions? a count from 1 to {1 << 48:,}")
                self.runner.send(R.Run(max_insns=n))
            elif self._prompt_kind == "vmid":
                vmid = parse_number(event.value, "VMID")
                if not 0 <= vmid <= 255:
                    raise BadInput(f"VMID {vmid} is out of range (0-255)")
                self.runner.send(R.RunUntilVMID(vmid))
            else:
                addr = parse_address(event.value, self.symbols, self._here())
                self.runner.send(R.ShowCode(self.selected, addr))
                self._request_walk(event.value.strip())
        except BadInput as e:
            self.say(str(e), error=True)

    def _edit_command(self, text: str):
        from vizor.driver.edits import EditError, parse_edit
        here = self._here()
        try:
            return parse_edit(text, self.selected, lambda t: parse_address(t, self.symbols, here))
        except EditError as e:
            raise BadInput(str(e)) from None

    @on(WalkRequested)
    def _walk_requested(self, event: WalkRequested) -> None:
        try:
            self._request_walk(event.text)
        except BadInput as e:
            self.say(str(e), error=True)

    def _request_walk(self, text: str, quiet: bool = False) -> None:
        words = text.split()
        regime = "auto"
        if words and words[-1] in REGIMES:
            regime = words.pop()
        if len(words) > 1:
            raise BadInput(f"walk: one address and an optional regime ({', '.join(REGIMES)})")
        if words:
            va = parse_address(words[0], self.symbols, self._here())
        elif self.snapshot is not None:
            va = self.snapshot.cores[self.selected].pc
        else:
            raise BadInput("no address given")
        self._walk_text = text
        self.runner.send(R.WalkVA(self.selected, va, regime))
        if not quiet:
            self.query_one(TabbedContent).active = "tab-walk"
            self.query_one("#walk-input", Input).value = text


class ReplayApp(VizorApp):
    """``vizor replay``: the same screen, its footer showing the replay's keys (j S B V)."""

    BINDINGS = REPLAY_FOOTER


def run_app(runner, symbols, **kw) -> int:
    """Run the TUI on ``runner`` (a Runner or remote.RemoteRunner) until it quits; a
    ``timeline`` makes it the replay's."""
    try:
        (VizorApp if kw.get("timeline") is None else ReplayApp)(runner, symbols, **kw).run()
    finally:
        close = getattr(runner, "close", None)
        if close is not None:
            close()          # a machine process the UI never started serving
    runner.done.wait(5)      # the machine closes a recording as it quits
    return 0
