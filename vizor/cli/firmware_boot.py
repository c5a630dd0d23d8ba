"""Booting as the Pi firmware does: `IMAGE --dtb --initrd --append --armstub`, or a card's
config.txt with no IMAGE (`--sd card.img`).

The placement is the machine's (``vizor/machine/board/firmware.py``); this
module reads the files (and the card, ``card.py``) and prints the one line that
says what was chosen.  Bad input is a ``BootFilesError`` (one line; the
options turn it into a usage error).
"""

from __future__ import annotations

import sys

from vizor.cli.card import MAX_DTB, MAX_INITRD, BootFilesError, card_plan, put_armstub

UsageError = BootFilesError


def firmware_boot(args):
    """(board, image path) booted from the boot files the options name, or
    None when they name none (a plain IMAGE: ``build_board`` loads it)."""
    direct = any(getattr(args, k, None) for k in ("dtb", "initrd", "append", "armstub"))
    if args.image is None and getattr(args, "sd", None):
        if direct:
            raise UsageError("--dtb, --initrd, --append and --armstub go with an IMAGE; "
                             "a card's are named by its config.txt")
        plan = card_plan(args.sd, args.boot_el)
        return _boot(plan, "card")
    if args.image is None and args.command == "run":
        raise UsageError("vizor run needs an IMAGE, or --sd CARD to boot the card's config.txt")
    if not direct:
        return None
    if args.image is None:
        raise UsageError("--dtb, --initrd, --append and --armstub need an IMAGE (or boot a card: --sd CARD)")
    if args.append is not None and not args.dtb:
        raise UsageError("--append goes into the device tree's /chosen/bootargs: give --dtb FILE too")
    from vizor.machine.board.firmware import BootPlan
    from vizor.machine.board.loader import ImageError, load_image, read_file
    try:
        plan = BootPlan(load_image(args.image, args.boot_el), boot_el=args.boot_el, cmdline=args.append)
        if args.dtb:
            plan.dtb, plan.dtb_name = read_file(args.dtb, MAX_DTB, "a device tree"), args.dtb
        if args.initrd:
            plan.initrd, plan.initrd_name = read_file(args.initrd, MAX_INITRD, "an initramfs"), args.initrd
        if getattr(args, "armstub", None):
            put_armstub(plan, read_file(args.armstub, 1 << 20, "an armstub"), args.armstub, args.armstub, None)
    except ImageError as e:
        raise UsageError(str(e)) from None
    return _boot(plan, "boot")


def _boot(plan, label: str):
    from vizor.machine.board.board import Board
    from vizor.machine.board.firmware import describe, place
    from vizor.machine.board.loader import ImageError
    try:
        placement = place(plan)
    except ImageError as e:
        raise UsageError(str(e)) from None
    board = Board()
    try:
        board.load(plan.kernel, plan.boot_el, blobs=placement.blobs, x0=placement.x0)
    except ValueError as e:
        raise UsageError(f"{plan.kernel.path}: {e}") from None
    print(f"vizor: {label}: {describe(plan, placement)}", file=sys.stderr, flush=True)
    return board, plan.kernel.path
