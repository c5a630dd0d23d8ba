"""QEMU raspi3b started the way the Pi firmware starts a card that runs at EL3
(an armstub, or kernel_old=1): with no -kernel, QEMU resets all four cores at
0 in EL3, so loading what vizor's firmware placed (the kernel or stub, the
tree, the stub's words: board/firmware.py) at the same addresses with
`-device loader` gives the same start.  The card goes in as -drive if=sd.
"""

from __future__ import annotations

import os

from qemu_runner import QEMU, output_until

from vizor.cli.card import card_plan
from vizor.machine.board.firmware import place


def placed(card: str) -> list[tuple[int, bytes]]:
    """Everything vizor's firmware loads for ``card``, as (pa, bytes) regions that
    do not overlap (QEMU refuses overlapping loaders): a later blob overwrites
    an earlier one, as in Board.load (the stub's words over the stub)."""
    plan = card_plan(card, 2)
    assert plan.boot_el == 3, "QEMU starts every core at 0 in EL3: only such cards compare"
    placement = place(plan)
    regions: list[tuple[int, bytearray]] = []
    for pa, data in [(pa, data) for pa, data, _ in plan.kernel.segments] + list(placement.blobs):
        for at, region in regions:
            if at <= pa and pa + len(data) <= at + len(region):
                region[pa - at:pa - at + len(data)] = data
                break
        else:
            regions.append((pa, bytearray(data)))
    return [(pa, bytes(data)) for pa, data in regions]


def qemu_as_firmware(card: str, workdir: str, until: str, timeout: float = 60.0) -> str:
    """QEMU's PL011 output until ``until`` shows (or the timeout), "\\r\\n" made "\\n"; a
    "\\r" at the very end, whose "\\n" had not come when the marker showed, is dropped."""
    cmd = [QEMU, "-M", "raspi3b", "-display", "none", "-monitor", "none", "-nodefaults",
           "-serial", "stdio", "-serial", "null", "-no-reboot"]
    for n, (pa, data) in enumerate(placed(card)):
        path = os.path.join(workdir, f"blob{n}.bin")
        with open(path, "wb") as f:
            f.write(data)
        cmd += ["-device", f"loader,file={path},addr={pa:#x},force-raw=on"]
    copy = os.path.join(workdir, "qemu-card.img")      # QEMU may write to its card
    with open(card, "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    cmd += ["-drive", f"file={copy},if=sd,format=raw"]
    out, _reached, _wall = output_until(cmd, until.encode(), timeout)
    return out.decode("latin-1").replace("\r\n", "\n").removesuffix("\r")
