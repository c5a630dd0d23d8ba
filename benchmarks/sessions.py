"""What saved sessions cost (issue 8's figures), side by side in one run.

    python benchmarks/sessions.py [--insns N] [--short]

On the demo hypervisor (images/hyp/hyp.elf), N instructions (default 100 M),
recorded as `vizor run --record` and the TUI record (a checkpoint every
second of wall time, vizor/driver/pacing.py):

1. recording overhead: process CPU time of a plain ``Board.run`` against the
   same run through a ``Recorder`` (best of three, alternating), and the CPU
   time spent in the recorder's checkpoints within it (which, measured in the
   same run, is not subject to the host's run-to-run noise); goal <= 10 %;
2. the session file's size, and that size per 100 M instructions;
3. the latency of one reverse step (``reverse.step_back``) of a running core
   at the end of the recording (goal <= 0.5 s), in the three ways a user
   gets there:
   a. after playing the replay there as the TUI does (ReplayRunner keeps an
      in-memory checkpoint every REMEMBER_EVERY seconds of replay), the step
      taken right after one was kept;
   b. the same, but the step taken just before the next one would have been
      kept (the worst case of a);
   c. right after jumping there (``Replay.seek`` from a fresh replay, as `j`
      does; the jump's own time is printed too).

Nothing is asserted; the figures are printed.  A reverse step that fails
(vizor raises) is printed as FAILED with vizor's message instead of ending
the run.  Restores are exact (tests/test_session_exact.py and
test_session_reverse_exact.py check every checkpoint against a straight run),
so a failure here is a bug to report.

--short (for CI): 3 M instructions, one run instead of the best of three.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from vizor.driver.pacing import checkpoint_policy  # noqa: E402
from vizor.driver.replay import ReplayRunner  # noqa: E402
from vizor.machine.board.board import Board  # noqa: E402
from vizor.machine.board.loader import load_image  # noqa: E402
from vizor.machine.session.reader import load_session, read_image_bytes  # noqa: E402
from vizor.machine.session.recorder import Recorder  # noqa: E402
from vizor.machine.session.replay import Replay  # noqa: E402
from vizor.machine.session.reverse import step_back  # noqa: E402

HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")


def plain(n: int) -> float:
    board = Board()
    board.load(load_image(HYP), 2)
    t0 = time.process_time()
    board.run(max_insns=n)
    return time.process_time() - t0


def recorded(n: int, path: str) -> tuple[float, int, float]:
    """CPU time of the recorded run, its checkpoints, and the CPU time spent in them."""
    board = Board()
    board.load(load_image(HYP), 2)
    t0 = time.process_time()
    rec = Recorder(board, path, read_image_bytes(HYP), image_name="hyp.elf", boot_el=2,
                   **checkpoint_policy(None))
    spent = [0.0]
    take = rec.checkpoint

    def timed():
        t = time.process_time()
        try:
            return take()
        finally:
            spent[0] += time.process_time() - t
    rec.checkpoint = timed
    rec.run(max_insns=n)
    rec.close()
    return time.process_time() - t0, rec.checkpoints, spent[0]


def running_core(replay: Replay) -> int:
    """A core that is running there (one asleep in WFI last executed long before)."""
    running = [c for c in replay.board.cores if c.state == "running"] or replay.board.cores
    return max(running, key=lambda c: c.instructions).index


def played(path: str, n: int, quiet: int) -> Replay:
    """Play to n as the TUI does, but keep no in-memory checkpoint in the last
    ``quiet`` instructions."""
    replay = Replay(load_session(path))
    every = ReplayRunner.REMEMBER_EVERY
    last = time.perf_counter()
    chunk = 100_000
    while replay.board.instructions < n:
        replay.run(max_insns=min(chunk, n - replay.board.instructions))
        if time.perf_counter() - last >= every and replay.board.instructions < n - quiet:
            replay.remember()
            last = time.perf_counter()
    if not quiet:
        replay.remember()
    return replay


def timed_step_back(replay: Replay) -> float | str:
    """Seconds for one reverse step of a running core, or why it failed."""
    core = running_core(replay)
    t0 = time.perf_counter()
    try:
        step_back(replay, core)
    except ValueError as e:
        return f"FAILED (core {core}): {e}"
    return time.perf_counter() - t0


def secs(t: float | str) -> str:
    return f"{t:.3f} s" if isinstance(t, float) else t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--insns", type=int, default=None, help="instructions recorded (default 100 M, 3 M with --short)")
    ap.add_argument("--short", action="store_true", help="CI mode: a short recording, one run")
    args = ap.parse_args()
    n = args.insns or (3_000_000 if args.short else 100_000_000)
    tries = 1 if args.short else 3
    every = ReplayRunner.REMEMBER_EVERY
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hyp.vzs")
        runs = [(plain(n), recorded(n, path)) for _ in range(tries)]   # alternating, against other load
        p = min(pl for pl, _r in runs)
        r, k, spent = min(rr for _p, rr in runs)
        size = os.path.getsize(path)
        a = timed_step_back(played(path, n, 0))
        probe = Replay(load_session(path))
        probe.seek(n // 2)
        span = min(2_000_000, n // 2)
        t0 = time.perf_counter()
        probe.run(max_insns=span)
        rate = span / (time.perf_counter() - t0)
        quiet = int(rate * every * 0.95)          # instructions in 0.95 * REMEMBER_EVERY s of replay
        b = timed_step_back(played(path, n, quiet))
        fresh = Replay(load_session(path))
        t0 = time.perf_counter()
        fresh.seek(n)
        jump = time.perf_counter() - t0
        c = timed_step_back(fresh)
    print(f"demo hypervisor, {n:,} instructions (process CPU time, {'one run' if tries == 1 else f'best of {tries}'}):")
    print(f"  plain run            {p:7.2f} s")
    print(f"  recorded run         {r:7.2f} s   overhead {100 * (r - p) / p:5.1f} %  (goal <= 10 %)")
    print(f"    of which its {k} checkpoints {spent:5.2f} s = {100 * spent / p:4.1f} % of the plain run "
          f"(the rest is the host's run-to-run noise and the stop checks)")
    print(f"  session file         {size / 1e6:7.2f} MB  = {size / 1e6 * 1e8 / n:.2f} MB per 100 M instructions, "
          f"{k} checkpoints")
    print(f"  one reverse step at {n:,} (goal <= 0.5 s):")
    print(f"    a. played there, just after an in-memory checkpoint   {secs(a)}")
    print(f"    b. played there, {every * 0.95:.2f} s after one (worst case)     {secs(b)}")
    print(f"    c. right after jumping there (the jump took {jump:.2f} s)   {secs(c)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
