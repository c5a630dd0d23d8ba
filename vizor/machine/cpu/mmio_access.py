"""A core's MMIO windows, and the one case where Unicorn would repeat an access.

A mixin of ``Core`` (core.py).  Each MMIO window of the board is mapped on the
core's Unicorn instance with callbacks into the bus.  When a callback stops
the run (a device raised an interrupt the core takes, a UART listener, a
debugger event stop, a timer event earlier than the round's end), Unicorn
abandons the instruction: PC stays on it, to be executed again from its
start, although its access already reached the device (a byte printed, a
FIFO popped).  ``_complete_restarted`` executes it once more at once, with
that access answered from the record instead of repeated, so the
instruction completes exactly once and the stop falls after it.
"""

from __future__ import annotations

from unicorn import UcError

SYSTEM_TIMER = 0x3F003000    # its page is mapped apart: systimer.c reads CLO/CHI
CLO = SYSTEM_TIMER + 4


class MmioAccess:
    def map_mmio(self, base: int, size: int) -> None:
        if base <= SYSTEM_TIMER < base + size and self._fast is not None:
            read, write = self._mmio_callbacks(SYSTEM_TIMER)
            if self._map_system_timer(read, write):
                end = SYSTEM_TIMER + 0x1000
                self.uc.mmio_map(base, SYSTEM_TIMER - base, *self._mmio_callbacks(base, pair=True))
                self.uc.mmio_map(end, base + size - end, *self._mmio_callbacks(end, pair=True))
                return
        self.uc.mmio_map(base, size, *self._mmio_callbacks(base, pair=True))

    def _mmio_callbacks(self, base: int, pair: bool = False):
        """The read and write callbacks of a window at ``base`` (``pair``: with the
        binding's user-data slots, as ``Uc.mmio_map`` takes them)."""
        board = self.board
        bus = board.bus
        quiet = bus.quiet

        def read(uc, offset, sz, _ud):
            addr = base + offset
            again = self._again
            if again is not None and again[:3] == ("r", addr, sz):
                self._again = None
                return again[3]        # the abandoned load's value: the device is not read twice
            self._in_mmio = True
            self._mmio_count += 1
            try:
                value = bus.read(addr, sz, self)
                if addr == CLO and self._fast is not None:
                    self._clo_poll(value)   # systimer.c asks: a run of reads from one PC
                elif quiet(addr):
                    self._quiet_read(addr, value)   # a status poll (quiet.py)
                if board.signalled:
                    self._signal_stop()
            finally:
                self._in_mmio = False
            if self._stopped_in_mmio:
                self._stopped_in_mmio = False
                self._restart = ("r", addr, sz, value)
            return value

        def write(uc, offset, sz, value, _ud):
            addr = base + offset
            again = self._again
            if again is not None and again[:4] == ("w", addr, sz, value):
                self._again = None
                return                 # the abandoned store reached the device already
            self._in_mmio = True
            self._mmio_count += 1
            try:
                bus.write(addr, sz, value, self)
                if board.signalled:
                    self._signal_stop()
            finally:
                self._in_mmio = False
            if self._stopped_in_mmio:
                self._stopped_in_mmio = False
                self._restart = ("w", addr, sz, value)

        return (read, None, write, None) if pair else (read, write)

    def _signal_stop(self) -> None:
        """A signal came (cli/interrupt.py): end the run after this instruction."""
        self.board.signalled = False
        self._stop(cut=False)

    def _complete_restarted(self) -> None:
        """Unicorn abandons an instruction whose MMIO access stopped the run
        (PC stays on it, to be executed again from its start), but the access
        has reached the device.  Execute the instruction once more now, its
        access answered from the record (not repeated), so that it completes
        exactly once and the stop falls after it."""
        self._again, self._restart = self._restart, None
        self._timer_reads_in_python(True)    # the record answers, also for CLO/CHI
        try:
            self.uc.emu_start(self.regs.read("PC"), 0xFFFFFFFFFFFFFFFF, 0, 1)
        except UcError as e:
            self._halt(f"unicorn error: {e}")
        self._timer_reads_in_python(False)
        self._again = None

