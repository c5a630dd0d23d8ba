"""Checkpoints: restoring one and running on gives exactly the straight run."""

from __future__ import annotations

import os
import zlib

import pytest
from conformance import image
from test_determinism import machine_hash

import vizor.machine.session.checkpoint as C
import vizor.machine.session.plain as P
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image

HYP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images", "hyp", "hyp.elf")
SPINLOCK = image("smp_spinlock.elf")


def booted(path: str) -> Board:
    b = Board()
    b.load(load_image(path, 2), 2)
    return b


def straight(path: str, n: int) -> str:
    b = booted(path)
    b.run(max_insns=n)
    return machine_hash(b)


def ram_of(cp: C.Checkpoint) -> dict[int, bytes]:
    return {blk: zlib.decompress(d) for blk, d in cp.blocks.items()}


@pytest.mark.parametrize("path,n1,n2", [(SPINLOCK, 1_234_567, 2_500_001), (HYP, 1_654_321, 3_000_003)])
def test_a_restored_checkpoint_runs_on_exactly_as_the_straight_run(path, n1, n2):
    a = booted(path)
    a.run(max_insns=n1)
    cp = C.capture(a, C.RamTracker(a))
    b = booted(path)
    b.run(max_insns=777)  # some other state first: everything must be replaced
    C.restore(b, cp.meta, cp.contexts, ram_of(cp))
    assert b.instructions == n1
    b.run(max_insns=n2 - n1)
    assert machine_hash(b) == straight(path, n2)


def test_a_checkpoint_taken_mid_slice_after_a_stop_restores_exactly():
    a = booted(HYP)
    calls = []

    def stop():
        calls.append(1)
        return "pause" if len(calls) == 37 else None
    reason = a.run(max_insns=3_000_000, stop=stop)
    assert reason.kind == "stop" and a._round_done != [0, 0, 0, 0]
    n1 = a.instructions
    cp = C.capture(a, C.RamTracker(a))
    a.run(max_insns=1_000_000)
    want = machine_hash(a)
    C.restore(a, cp.meta, cp.contexts, ram_of(cp))  # back on the same board
    assert a.instructions == n1
    a.run(max_insns=1_000_000)
    assert machine_hash(a) == want


def test_clock_events_come_back_with_their_times_and_order():
    a = booted(HYP)
    a.run(max_insns=1_000_000)
    cp = C.capture(a, None)
    b = booted(HYP)
    C.restore(b, cp.meta, cp.contexts, {})
    again = C.capture(b, None)
    assert again.meta["clock"] == cp.meta["clock"] and len(cp.meta["clock"]["events"]) >= 4
    assert again.meta["lines"] == cp.meta["lines"]
    assert again.meta["devices"] == cp.meta["devices"]


def test_two_runs_give_the_same_checkpoint_digest():
    digests = []
    for _ in range(2):
        b = booted(HYP)
        b.run(max_insns=2_500_000)
        digests.append(C.capture(b, C.RamTracker(b)).digest)
    assert digests[0] == digests[1]


def test_the_ram_delta_holds_only_the_blocks_that_changed():
    b = booted(SPINLOCK)
    tracker = C.RamTracker(b)
    first = tracker.changes()
    assert first and all(len(d) == C.BLOCK for d in first.values())
    assert tracker.changes() == {}
    b.write_ram(0x2345678, b"\x01")
    assert list(tracker.changes()) == [0x2345678 // C.BLOCK]
    b.write_ram(0x2345678, b"\x00")
    assert tracker.changes() == {0x2345678 // C.BLOCK: C.ZERO_BLOCK}
    assert 0x2345678 // C.BLOCK not in tracker.digests


def test_every_device_state_survives_plain_data_and_restore():
    b = booted(HYP)
    b.run(max_insns=1_500_000)
    for name, dev in C.devices_of(b):
        st = dev.state()
        again = P._state_of(type(st), P.from_plain(P.to_plain(st)))
        assert again == st, name
        dev.restore(again)
        assert dev.state() == st, name


def test_an_event_no_device_holds_is_refused():
    b = booted(SPINLOCK)
    b.clock.schedule(10_000, lambda: None)
    with pytest.raises(P.CheckpointError, match="belong to no device"):
        C.capture(b, None)


def test_a_restore_replaces_the_virtual_interrupt_qemu_holds_pending():
    """QEMU keeps a pending virtual IRQ (HCR_EL2.VI) outside the CPU context
    (cs->interrupt_request): restoring a checkpoint after running past it must
    neither keep one that the checkpoint has not nor lose one it has."""
    a = booted(HYP)
    a.run(max_insns=28_500_000)                 # the mini OS guests take virtual IRQs by now
    cp = C.capture(a, C.RamTracker(a))
    a.run(max_insns=1_500_000)
    want = machine_hash(a)
    C.restore(a, cp.meta, cp.contexts, ram_of(cp))
    a.run(max_insns=1_500_000)
    assert machine_hash(a) == want


def test_an_interrupt_waking_a_restored_core_is_logged_at_its_time_as_in_the_straight_run():
    """An interrupt is taken before a core's slice, outside Unicorn: its exception
    record was timed by the core's previous slice (stale after a restore, and on a
    straight run the time the core went to sleep, not the time it woke)."""
    a = booted(image("irq_timers.elf"))
    a.run(max_insns=20_000)
    core = a.cores[0]
    assert a.run(max_insns=20_000, stop=lambda: "asleep" if core.state == "wfi" else None).kind == "stop"
    slept = a.clock.base + a._round_done[0]          # core 0's time when it went to sleep
    cp = C.capture(a, C.RamTracker(a))
    seen = len(core.exceptions)
    a.run(max_insns=3_000)
    woke = list(core.exceptions)[seen:]
    assert woke and woke[0].kind == "irq" and woke[0].cycles > slept
    b = booted(image("irq_timers.elf"))
    b.run(max_insns=777)
    C.restore(b, cp.meta, cp.contexts, ram_of(cp))
    b.run(max_insns=3_000)
    assert list(b.cores[0].exceptions)[seen:] == woke


def test_a_checkpoint_before_the_watchdog_restores_onto_a_board_it_powered_off_or_cycled():
    """watchdog.elf restarts the board once (a power cycle) and then powers it off:
    a checkpoint from before either restores onto a board standing after them and
    runs on to the same end, with the same count of power cycles."""
    path = image("watchdog.elf")
    a = booted(path)
    a.run(max_insns=1_000)
    cp = C.capture(a, C.RamTracker(a))
    assert a.run().kind == "poweroff" and a.power_cycles == 1
    end = a.instructions
    C.restore(a, cp.meta, cp.contexts, ram_of(cp))
    assert (a.powered_off, a.power_cycles) == (False, 0)
    assert a.run().kind == "poweroff" and a.instructions == end and a.power_cycles == 1


def test_a_board_checkpointed_and_dropped_is_freed():
    """Nothing of the session code keeps a board alive: a test run that records and
    replays hundreds of boards once held every one (a forgotten cache on devices_of),
    ~30 MB each, and was killed for want of memory."""
    import gc
    import weakref
    b = booted(SPINLOCK)
    b.run(max_insns=1_000)
    cp = C.capture(b, C.RamTracker(b))
    C.restore(b, cp.meta, cp.contexts, ram_of(cp))
    gone = weakref.ref(b)
    del b
    gc.collect()
    assert gone() is None
