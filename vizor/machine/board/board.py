"""The Raspberry Pi 3 Model B: four cores, 1 GiB of RAM, the BCM2837 peripherals.

Memory map (ARM physical addresses):

    0x00000000-0x3EFFFFFF  RAM (the top 64 MiB is the GPU's share on a real Pi)
    0x3F000000-0x3FFFFFFF  peripherals (bus address 0x7Ennnnnn in the manual)
    0x40000000-0x4003FFFF  ARM-local peripherals (QA7)

Scheduling: the cores run round-robin in rounds of ``quantum`` cycles of
virtual time; in a round each running core executes up to ``quantum``
instructions in one or a few count-limited Unicorn slices.  A round ends early
at the next clock event (a timer firing), so timer interrupts are raised at their exact
virtual time.  A pending, unmasked interrupt is taken at the start of the core's next slice
(interrupts.py); a run cut inside a slice goes on with it.
"""

from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass
from typing import Callable

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.mmu import BusError
from vizor.machine.board.bus import Bus
from vizor.machine.board.contexts import SymbolContexts
from vizor.machine.board.interrupts import WAKE_STEPS, InterruptDelivery  # noqa: F401 (WAKE_STEPS re-exported)
from vizor.machine.board.loader import Image
from vizor.machine.board.rounds import SPIN_TABLE, RoundSchedule
from vizor.machine.board.wiring import wire_devices
from vizor.machine.clock import Clock
from vizor.machine.cpu.calibrate import emu_counter_offset
from vizor.machine.cpu.context import RAM_ADDR_OF
from vizor.machine.cpu.core import HALTED, PARKED, RUNNING, WFI_IDLE, Core
from vizor.machine.devices.base import IrqLine
from vizor.machine.inspect.symbols import Symbols

RAM_SIZE = 0x40000000
RAM_MAPPED = 0x3F000000
PERIPH_BASE, PERIPH_SIZE = 0x3F000000, 0x01000000
LOCAL_BASE, LOCAL_SIZE = 0x40000000, 0x40000
SPIN_STUB_ADDR = 0x300
# mrs x5, mpidr_el1; and x5, x5, #3; mov x6, #0xd8; add x6, x6, x5, lsl #3
# 1: wfe; ldr x4, [x6]; cbz x4, 1b; mov x0..x3, #0; br x4
SPIN_STUB = (0xD53800A5, 0x924004A5, 0xD2801B06, 0x8B050CC6, 0xD503205F, 0xF94000C4,
             0xB4FFFFC4, 0xD2800000, 0xD2800001, 0xD2800002, 0xD2800003, 0xD61F0080)
QUANTUM = 100_000
IDLE_LIMIT = 60 * 1_200_000_000  # a board asleep for 60 virtual seconds stops the run


@dataclass(frozen=True)
class StopReason:
    kind: str  # "max_insns", "stop", "halted", "idle", "step", "breakpoint", "poweroff"
    detail: str = ""
    core: int | None = None  # the core that stopped (step, breakpoint)
    breakpoint: int | None = None  # the breakpoint's id


class Board(InterruptDelivery, RoundSchedule):
    def __init__(self, *, quantum: int = QUANTUM) -> None:
        self.quantum = quantum
        self.clock = Clock()
        self.clock.on_earlier = self._earlier_deadline  # see run(): the round is shortened
        self.emu_counter_offset = emu_counter_offset()
        self.tlb_stale = (ctypes.c_uint8 * 4)()   # per core: another core's TLBI ...IS (accel.c sets them too)
        self._mem = mmap.mmap(-1, RAM_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # see test_memory.py
        self._ram_buf = (ctypes.c_char * RAM_SIZE).from_buffer(self._mem)
        self.ram = memoryview(self._mem)
        self.ram64 = self.ram.cast("Q")       # RAM as 64-bit words (walk-cache checks, faults.py)
        self.bus = Bus(lambda: self.clock.cycles)
        self.uart_listeners: list[Callable[[str, int], None]] = []
        self.exception_listeners: list[Callable[[Core, X.ExceptionRecord], None]] = []
        # listener -> whether it needs every exception below EL3 now (absent: always);
        # while none does, cores take SVC, HVC and known aborts in C (cpu/fasttrap.py)
        self.exception_demand: dict[Callable, Callable[[], bool]] = {}
        self.slices_run = 0
        self.halt_listeners: list[Callable[[Core], None]] = []   # a stuck core halted, the others run on
        self.symbols = Symbols()
        self.contexts = SymbolContexts()  # symbols per context: EL2 and each VMID
        self.cores: list[Core] = []
        ptr = ctypes.addressof(self._ram_buf)
        for i in range(4):
            core = Core(i, self)
            core.map_ram(0, RAM_MAPPED, ptr)
            core.map_mmio(PERIPH_BASE, PERIPH_SIZE)
            core.map_mmio(LOCAL_BASE, LOCAL_SIZE)
            core.irq_line = IrqLine(f"core{i}.irq", self._line_changed(core))
            core.fiq_line = IrqLine(f"core{i}.fiq", self._line_changed(core))
            self.cores.append(core)
        # another core's IC IVAU drops a line's translations by PA (Core.drop_code)
        self.code_by_pa = RAM_ADDR_OF is not None and all(RAM_ADDR_OF(c.uc._uch, ptr) == 0 for c in self.cores)
        self.devices = wire_devices(self)
        self.running: Core | None = None
        self._round_end = 0
        self._next_core = 0
        self._round_done = [0, 0, 0, 0]
        self.instructions = 0
        # The debugger's say when a core stopped at an exit address or touched
        # a watched page, or a stop was posted: the StopReason to end the run
        # with, or None to go on (see debug/engine.py).
        self.debug_check: Callable[[Core], StopReason | None] | None = None
        # The debugger's, called before a run with ``debug_check`` when the board ran
        # without it (a seek) or was restored since: what it tracks per core (the
        # world, armed cores) is read again from the machine (``unwatched``).
        self.debug_sync: Callable[[], None] | None = None
        self.unwatched = False
        self.posted: list[StopReason] = []
        self.signalled = False   # Ctrl-C or SIGTERM: the next hook stops the run (cli/interrupt.py)
        self.idle_limit = IDLE_LIMIT
        self._idle_since: int | None = None
        self._boot: tuple | None = None   # load()'s arguments, for a watchdog reset
        self.powered_off = False
        self.power_cycles = 0

    def symbols_for(self, core: Core) -> Symbols:
        """The symbol table of the context ``core`` runs in (its VM's, or EL2's)."""
        return self.contexts.for_core(core)

    # --- memory ----------------------------------------------------------------

    def read_phys(self, pa: int, size: int) -> int:
        """Little-endian read of RAM for the table walkers; BusError off RAM."""
        if pa < 0 or pa + size > RAM_MAPPED:
            raise BusError(f"PA {pa:#x} is not RAM")
        return int.from_bytes(self.ram[pa:pa + size], "little")

    def read_ram(self, pa: int, n: int) -> bytes:
        if pa < 0 or pa + n > RAM_MAPPED:
            raise BusError(f"PA {pa:#x}+{n} is not RAM")
        return bytes(self.ram[pa:pa + n])

    def write_ram(self, pa: int, data: bytes) -> None:
        if pa < 0 or pa + len(data) > RAM_MAPPED:
            raise BusError(f"PA {pa:#x}+{len(data)} is not RAM")
        self.ram[pa:pa + len(data)] = data
        self.flush_code_caches()

    def flush_code_caches(self) -> None:
        """Drop every core's translated code (after RAM changes behind their back)."""
        for c in self.cores:
            if c is not self.running:
                c.flush_tb()

    def broadcast_tlb_flush(self, origin: Core) -> None:
        for c in self.cores:
            if c is not origin:
                c.invalidate_tlb()

    # --- boot ----------------------------------------------------------------------

    def load(self, image: Image, boot_el: int = 2, *, blobs: tuple = (), x0: int = 0x100) -> None:
        """Place the image (and ``blobs``, (pa, bytes): an initramfs, a device
        tree; firmware.py) in RAM and reset the cores as the firmware would.

        boot_el 2 (default): core 0 at the entry in EL2h with ``x0``, cores 1-3
        in the spin table at 0xd8/0xe0/0xe8/0xf0.  boot_el 3 (kernel_old=1):
        every core at the entry in EL3h.
        """
        for pa, data, memsz in image.segments:
            self.ram[pa:pa + len(data)] = data
            if memsz > len(data):
                self.ram[pa + len(data):pa + memsz] = bytes(memsz - len(data))
        for pa, data in blobs:
            self.ram[pa:pa + len(data)] = data
        self.symbols = image.symbols
        self.contexts = SymbolContexts(el2=image.symbols)
        self.contexts.attach_manifest(image.path)
        self._boot = (image, boot_el, blobs, x0)
        # The firmware leaves UART0 (PL011) enabled for the kernel's console.
        self.bus.write(0x3F201030, 4, 0x301)
        if boot_el == 3:
            for c in self.cores:
                c.reset(image.entry, 3, scr=0x30 | X.SCR_RW, hcr=0, x0=0 if x0 == 0x100 else x0)
        else:
            stub = b"".join(w.to_bytes(4, "little") for w in SPIN_STUB)
            if image.low < SPIN_STUB_ADDR + len(stub):
                raise ValueError("image overlaps the firmware spin table (0x0-0x330)")
            self.ram[SPIN_STUB_ADDR:SPIN_STUB_ADDR + len(stub)] = stub
            for slot in SPIN_TABLE:
                self.ram[slot:slot + 8] = bytes(8)
            self.cores[0].reset(image.entry, 2, x0=x0)
            for c in self.cores[1:]:
                c.reset(SPIN_STUB_ADDR, 2)
                c.state = PARKED
        self.flush_code_caches()

    @property
    def boot(self) -> tuple | None:
        """``load``'s arguments (image, boot_el, blobs, x0), None before it: what a
        watchdog reset loads again, and what a session records to load the same."""
        return self._boot

    def watchdog_reset(self, halt: bool) -> None:
        """The power manager's watchdog ran out (a clock event, between slices):
        power off for the firmware's halt partition, else restart as a power
        cycle would — devices and cores back to their boot state, the
        firmware loading the image again, the rest of RAM kept."""
        if halt:
            self.powered_off = True
            return
        self.power_cycles += 1
        for name, dev in self.devices.items():
            if name != "power_management":
                dev.reset()
        for c in self.cores:
            if c.timer is not None:
                c.timer.reset()
            c.flush_tlb()
        if self._boot is not None:
            contexts = self.contexts  # symbols the user attached stay
            image, boot_el, blobs, x0 = self._boot
            self.load(image, boot_el, blobs=blobs, x0=x0)
            self.contexts = contexts

    # --- events ------------------------------------------------------------------------

    def on_exception(self, core: Core, rec: X.ExceptionRecord) -> None:
        for listener in self.exception_listeners:
            listener(core, rec)

    def uart_output(self, uart: str, byte: int) -> None:
        for listener in self.uart_listeners:
            listener(uart, byte)

    def post_stop(self, reason: StopReason) -> None:
        """From a hook or listener: end the run with ``reason`` after the
        current instruction (the debugger's event stops)."""
        self.posted.append(reason)
        self.request_stop()

    def request_stop(self) -> None:
        """End the run after the running core's current instruction (for listeners:
        ``run``'s ``stop()`` is otherwise asked only between slices).  The core's
        slice is not ended: the next run goes on with it.  Only from a hook: a
        signal handler, which may run anywhere, sets ``signalled`` instead
        (cli/interrupt.py)."""
        if self.running is not None:
            self.running._stop(cut=False)

    def _earlier_deadline(self) -> None:
        """An event was scheduled before the round's end: the running core's
        slice ends after this instruction (between runs, by an edit: the slice
        in progress ends now), and ``run`` shortens the round."""
        if self.running is not None:
            self.running._stop()
        else:
            for c in self.cores:
                c.slice_left = 0

    # --- running --------------------------------------------------------------------------

    def run(self, max_insns: int | None = None, stop: Callable[[], str | None] | None = None,
            core_limit: tuple[int, int] | None = None) -> StopReason:
        """Run until ``max_insns`` more instructions (all cores together) have
        executed, ``stop()`` returns a reason, a core halts (a core halted as
        stuck only once no other core may progress: ``halt_listeners`` hear of
        it), or every core sleeps with nothing left to wake it.

        ``core_limit = (i, n)`` also stops once core i has executed n
        instructions in all (a single step of one core), and an exit address
        set on a core (``Core.set_exits``), a watched page and a posted stop
        (``post_stop``) end the run when ``debug_check(core)`` returns a
        reason.  None of this changes the
        schedule: a run with stops executes exactly what a run without does.
        """
        limit = None if max_insns is None else self.instructions + max_insns
        clock = self.clock
        if self.debug_check is None:
            self.unwatched = True
        elif self.unwatched:
            self.unwatched = False
            if self.debug_sync is not None:
                self.debug_sync()
        while True:
            if self.powered_off:
                return StopReason("poweroff", "the guest powered the board off (watchdog, halt partition)")
            if self._next_core == 0 and self._round_done == [0, 0, 0, 0]:
                self._start_round()
                if self.powered_off:
                    continue
                if self._round_end is None:
                    return StopReason("idle", "every core is waiting (WFI) and no event is pending")
                done = self._nothing_left()
                if done is not None:
                    return StopReason("halted", f"core {done.index}: {done.fault}")
                if any(c.state == RUNNING for c in self.cores):
                    self._idle_since = None
                else:
                    if self._idle_since is None:
                        self._idle_since = clock.base
                    if self._round_end - self._idle_since > self.idle_limit:
                        self._idle_since = None
                        return StopReason("idle", f"every core is waiting (WFI) and nothing wakes one "
                                                  f"within {self.idle_limit // 1_200_000_000} virtual seconds")
            budget = self._round_end - clock.base
            clock.round_end = self._round_end
            for i in range(self._next_core, 4):
                core = self.cores[i]
                self._next_core = i
                while core.state == RUNNING and (core.slice_left > 0 or self._round_done[i] < budget):
                    room = None if limit is None else limit - self.instructions
                    if room is not None and room <= 0:
                        return StopReason("max_insns", f"{max_insns:,} instructions")
                    if core_limit is not None and core_limit[0] == i:
                        mine = core_limit[1] - core.instructions
                        if mine <= 0:
                            return self._step_done(core)
                        room = mine if room is None else min(room, mine)
                    if core.slice_left <= 0:
                        budget = self._round_budget()      # an edit may have scheduled an event
                        if self._round_done[i] >= budget:
                            break
                        core.slice_left = self._new_slice(core, budget - self._round_done[i])
                        if self.posted and self.debug_check is not None:  # e.g. an exception stop
                            hit = self.debug_check(core)
                            if hit is not None:
                                return hit
                    left = core.slice_left if room is None else min(core.slice_left, room)
                    if core.single_step and self.debug_check is not None:
                        left = 1          # stepped for the stop check (none in a seek: no steps)
                    self.running = core
                    clock.offset = core._time_in_round
                    try:
                        n = core.run(left, clock.base + self._round_done[i])
                    finally:
                        clock.offset = None
                        self.running = None
                    self._round_done[i] += n
                    core.slice_left = 0 if core.slice_cut or core.state != RUNNING else max(core.slice_left - n, 0)
                    if n:
                        self.slices_run += 1     # Core.flush_tb: whose code may be stale
                        core._own_slices += 1
                    self.instructions += n
                    budget = self._round_budget()
                    if core.state == HALTED:
                        self._round_done[i] = budget
                        if not self._halted_alone(core):
                            return StopReason("halted", f"core {i}: {core.fault}")
                    if (core.at_exit or core.carriers.hit or self.posted or core.single_step) \
                            and self.debug_check is not None:
                        hit = self.debug_check(core)
                        if hit is not None:
                            return hit
                    if core_limit is not None and core_limit[0] == i and core.instructions >= core_limit[1]:
                        return self._step_done(core)
                    if stop is not None:
                        why = stop()
                        if why:
                            return StopReason("stop", why)
                    if n == 0 and core.state == RUNNING and core._stop_count is None and not core.at_exit:
                        core.slice_left = 0
                        break
                if core.state == WFI_IDLE and self._wakes(core):
                    self._wake(core)
            self._next_core = 0
            self._round_done = [0, 0, 0, 0]
            clock.advance_to(self._round_end)

    def _step_done(self, core: Core) -> StopReason:
        """A step that ends on a breakpoint reports it (and continuing then
        executes that instruction, as after any breakpoint stop)."""
        if core.mark_exit_arrival() and self.debug_check is not None:
            hit = self.debug_check(core)
            if hit is not None:
                return hit
        return StopReason("step", f"core {core.index}", core=core.index)

    # --- summary -------------------------------------------------------------------------------

    def uart_devices(self) -> dict[str, object]:
        return {k: v for k, v in self.devices.items() if k in ("pl011", "mini_uart")}
