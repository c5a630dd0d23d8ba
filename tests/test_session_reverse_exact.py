"""The replay's moves land where a straight run is (issue 16): ``j`` (Seek), ``S``
(StepBack), ``B`` (ReverseContinue) and ``V`` (ReverseStepInVM), sent to the
``ReplayRunner`` the TUI drives, on every conformance kernel and the demo, recorded
from reset and by ``R`` mid-run (tests/test_session_exact.py).  Each lands on the
state a straight ``Board`` run has at the same place: an instruction count, or the
first moment a core has executed m instructions (where a step or a breakpoint
leaves it).  One case goes through the real TUI with Textual's Pilot."""

from __future__ import annotations

import pytest
from session_oracle import Straight, state_hash
from test_session_exact import HOW, NAMES, breakpoint_of, same, session_of  # noqa: F401 - a fixture
from test_tui import SIZE, shown
from test_tui_board import paused, wait_for
from test_tui_session import prompt
from tui_fakes import sync

from vizor.app.app import VizorApp
from vizor.driver.commands import ReverseContinue, ReverseStepInVM, Seek, StepBack
from vizor.driver.livelock import LivelockGuard
from vizor.driver.replay import ReplayRunner, timeline_info
from vizor.machine.session.replay import Replay

BACK = 3          # steps back per core


def replay_runner(s, name: str) -> tuple[ReplayRunner, list]:
    published: list = []
    return ReplayRunner(Replay(s), published.append, image=name), published


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", NAMES)
def test_jump_and_step_back_land_where_the_straight_run_is(name, how, session_of):  # noqa: F811
    s = session_of(name, how)
    cps = s.checkpoints
    runner, _ = replay_runner(s, name)
    board = runner.board
    start, end = cps[0].instructions, s.end["instructions"]
    far = min(cps[2].instructions + 3, end)             # just past a checkpoint: steps back cross it
    near = (start + far) // 2 + 1
    straight = Straight(name)
    want = {n: state_hash(straight.at(n)) for n in (near, far)}
    counts = [c.instructions for c in straight.at(far).cores]
    for n in (far, near):                                # the second jump goes back
        runner._handle(Seek(n))
        assert board.instructions == n and state_hash(board) == want[n], f"j {n}"
    ran = [i for i, m in enumerate(counts) if m > BACK]
    for core in {ran[0], ran[-1]}:                      # core 0 and the last core that ran
        runner._handle(Seek(far))
        first = cps[0].core_counts[core]
        for back in range(1, BACK + 1):
            m = counts[core] - back
            if m <= first:        # before the recording started (R mid-run): refused, nothing moves
                with pytest.raises(ValueError, match="before the recording started"):
                    runner._handle(StepBack(core))
                assert board.cores[core].instructions == m + 1
                break
            runner._handle(StepBack(core))
            assert board.cores[core].instructions == m
            same(board, straight.at_core(core, m), f"S on core {core} to its instruction {m}")


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", NAMES)
def test_reverse_continue_lands_on_the_straight_runs_previous_hits(name, how, session_of):  # noqa: F811
    s = session_of(name, how)
    runner, published = replay_runner(s, name)
    board = runner.board
    start, end = s.checkpoints[0].instructions, s.end["instructions"]
    address, el = breakpoint_of(board, name)
    hits = Straight(name).breakpoint_hits(address, el, end)
    hits = [h for h in hits if h[0] >= start]     # R pressed at a hit: that one is in
    assert len(hits) >= 2, f"only {len(hits)} hits in the recording"
    runner.debugger.add_breakpoint(address, el=el)
    runner._handle(Seek(end))
    with LivelockGuard(board):     # as the runner's serve() has it
        for n, core, m, want in reversed(hits[-3:]):
            runner._handle(ReverseContinue())
            assert "previous hit" in runner.reason, runner.reason
            assert (board.instructions, board.cores[core].instructions) == (n, m)
            assert state_hash(board) == want, f"B to the hit at {n} (core {core})"
    assert any("reverse-continue: searching" in getattr(p, "text", "") for p in published)


VM_IMAGES = ("hyp.elf", "stage2.elf")


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", VM_IMAGES)
def test_reverse_step_in_vm_lands_on_the_cores_previous_instruction_in_its_vm(name, how, session_of):  # noqa: F811
    s = session_of(name, how)
    start, end = s.checkpoints[0].instructions, s.end["instructions"]
    straight = Straight(name)
    found = straight.vm_return(start, end)
    assert found is not None, "no core leaves a VM and comes back in the recording"
    core, vmid, back, before = found
    runner, _ = replay_runner(s, name)
    runner.replay.goto_core_count(core, back)
    assert runner.board.cores[core].vmid() == vmid
    runner._handle(ReverseStepInVM(core))
    assert runner.board.cores[core].instructions == before and runner.board.cores[core].vmid() == vmid
    same(runner.board, straight.at_core(core, before), f"V on core {core} from {back}")


def test_reverse_step_in_vm_is_refused_where_no_vm_runs(session_of):  # noqa: F811
    s = session_of("smp_mailbox.elf", HOW[0])
    runner, _ = replay_runner(s, "smp_mailbox.elf")
    runner._handle(Seek(s.end["instructions"] // 2))
    here = state_hash(runner.board)
    with pytest.raises(ValueError, match="not running a VM"):
        runner._handle(ReverseStepInVM(0))
    assert state_hash(runner.board) == here



@pytest.mark.parametrize("name", NAMES)
def test_a_step_back_from_a_checkpoint_kept_in_memory_at_a_breakpoint_stop(name, session_of):  # noqa: F811
    """The TUI keeps checkpoints in memory while a replay plays (ReplayRunner._advance):
    one kept where a breakpoint stopped the run, inside a slice, restores exactly too."""
    s = session_of(name, HOW[0])
    runner, _ = replay_runner(s, name)
    replay, board = runner.replay, runner.board
    address, el = breakpoint_of(board, name)
    straight = Straight(name)
    hits = straight.breakpoint_hits(address, el, s.end["instructions"], last=0)
    later = [h for h in hits if h[0] > s.checkpoints[1].instructions] or hits   # past a file checkpoint
    bp = runner.debugger.add_breakpoint(address, el=el)
    replay.seek(later[0][0] - 1)
    r = replay.run(run=runner.debugger.run)
    assert r.kind == "breakpoint", r
    runner.debugger.remove(bp.id)
    replay.remember()
    core = r.core
    m = board.cores[core].instructions
    replay.run(core_limit=(core, m + 2))
    used, restore = [], replay._restore_memory
    replay._restore_memory = lambda entry: (used.append(entry), restore(entry))
    runner._handle(StepBack(core))
    assert used and board.cores[core].instructions == m + 1
    same(board, straight.at_core(core, m + 1), f"S on core {core} to {m + 1}")


@sync
async def test_in_the_tui_j_s_and_b_land_where_the_straight_run_is(session_of):  # noqa: F811
    """One case through the real TUI (Pilot): smp_mailbox recorded by R mid-run."""
    name = "smp_mailbox.elf"
    s = session_of(name, HOW[1])
    end = s.end["instructions"]
    far = s.checkpoints[2].instructions + 5
    straight = Straight(name)
    at_far = straight.at(far)
    count = at_far.cores[1].instructions
    want_far = state_hash(at_far)
    want_back = state_hash(straight.at_core(1, count - 1))
    address, el = breakpoint_of(straight.board, name)
    hits = straight.breakpoint_hits(address, el, end, last=1)
    runner, _ = replay_runner(s, name)
    app = VizorApp(runner, runner.board.contexts, image=name, timeline=timeline_info(s))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await prompt(pilot, app, "j", str(far))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == far)
        assert state_hash(runner.board) == want_far
        await pilot.press("2")                          # core 1
        serial = app.snapshot.stop_serial
        await pilot.press("S")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert runner.board.cores[1].instructions == count - 1 and state_hash(runner.board) == want_back
        await prompt(pilot, app, "t", "pr")
        await wait_for(pilot, lambda: runner.debugger.breakpoints)
        await prompt(pilot, app, "j", str(end))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == end)
        serial = app.snapshot.stop_serial
        await pilot.press("B")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert "previous hit" in shown(app, "#stop")
        assert app.snapshot.instructions == hits[-1][0] and state_hash(runner.board) == hits[-1][3]
        await pilot.press("q")


def world_catches(straight: Straight, end: int) -> list[int]:
    """The instruction counts where ``--catch world`` stops a straight run."""
    from vizor.machine.debug.engine import Debugger
    from vizor.machine.debug.spec import add_catch
    board = straight.board
    dbg = Debugger(board)
    add_catch(dbg, "world")
    hits = []
    while dbg.run(max_insns=end - board.instructions).kind == "world":
        hits.append(board.instructions)
    return hits


def test_a_world_catch_after_a_jump_stops_where_the_straight_runs_does(session_of):  # noqa: F811
    """The secure monitor kernel booted at EL3 switches worlds ten times.  A jump runs
    with no stop check and a restore puts the board elsewhere: the debugger's idea of
    each core's world was the one before, and the next run stopped at once on a switch
    that never happened ('entered the Non-secure world' four instructions after a jump
    past one).  From just past every switch, a run with the catch stops at the next."""
    from vizor.machine.debug.spec import add_catch
    name = "secmon.elf@el3"
    s = session_of(name, HOW[0])
    end = s.end["instructions"]
    hits = world_catches(Straight(name), end)
    assert len(hits) >= 4, hits
    runner, _ = replay_runner(s, name)
    add_catch(runner.debugger, "world")
    for here, nxt in reversed(list(zip(hits, hits[1:]))):         # backwards: every jump restores
        runner._handle(Seek(here + 3))
        r = runner.replay.run(run=runner.debugger.run)
        assert (r.kind, runner.board.instructions) == ("world", nxt), f"after j {here + 3}: {r.detail}"
    # Into a monitor on its way to a switch (at EL3, SCR_EL3.NS written): the seek's run
    # saw the core's exception into EL3, so the world it came from is known and the
    # switch is caught where the straight run catches it.
    inside = 0
    for hit in reversed(hits[1:]):
        runner._handle(Seek(hit - 2))
        if not any(c.el == 3 and c.state == "running" for c in runner.board.cores):
            continue
        inside += 1
        r = runner.replay.run(run=runner.debugger.run)
        assert (r.kind, runner.board.instructions) == ("world", hit), f"after j {hit - 2}: {r.detail}"
    assert inside >= 3
