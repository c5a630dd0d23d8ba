"""From parsed options to a board: the image (the bundled demo when none is named),
--sd, --sd-writable, --rng-seed and --symbols; bad input is a ``UsageError``."""

from __future__ import annotations

from importlib import resources


class UsageError(Exception):
    pass


def bundled_image() -> str:
    """The image `vizor boot` and `vizor run` use when none is named: the demo hypervisor."""
    return str(resources.files("vizor.images.hyp").joinpath("hyp.elf"))


def board_options(board, args) -> None:
    """--sd, --sd-writable, --rng-seed, --no-skip-idle on a built board (UsageError on bad input)."""
    if getattr(args, "no_skip_idle", False):
        for core in board.cores:
            core.skip_idle = False
    from vizor.machine.board.wiring import insert_sd
    from vizor.machine.devices.sd_card import SdImageError
    if getattr(args, "rng_seed", None) is not None:
        if args.rng_seed >> 64:
            raise UsageError(f"--rng-seed {args.rng_seed}: the seed is 64 bits (at most {(1 << 64) - 1})")
        rng = board.devices["rng"]
        rng.seed = args.rng_seed
        rng.reset()
    if getattr(args, "sd_writable", False) and not getattr(args, "sd", None):
        raise UsageError("--sd-writable needs --sd FILE")
    if getattr(args, "sd", None):
        try:
            insert_sd(board, args.sd, args.sd_writable)
        except SdImageError as e:
            raise UsageError(f"--sd {e}") from None


def build_board(args):
    """The board ``vizor run`` and ``vizor boot`` start from: the image (the
    bundled one when none is named) loaded as the firmware would, with --sd,
    --sd-writable, --rng-seed and --symbols applied.  Returns (board, path);
    bad input is a UsageError."""
    from vizor.cli.firmware_boot import BootFilesError, firmware_boot
    from vizor.machine.board.board import Board
    from vizor.machine.board.loader import ImageError, load_image
    try:
        fw = firmware_boot(args)   # --dtb/--initrd/--append, or a card's config.txt (no IMAGE, --sd)
    except BootFilesError as e:
        raise UsageError(str(e)) from None
    if fw is not None:
        board, path = fw
        board_options(board, args)
        return _symbols(board, args), path
    path = args.image or bundled_image()
    try:
        image = load_image(path, args.boot_el)
    except ImageError as e:
        raise UsageError(str(e)) from None
    board = Board()
    try:
        board.load(image, args.boot_el)
    except ImageError as e:
        raise UsageError(str(e)) from None
    except ValueError as e:
        raise UsageError(f"{path}: {e}") from None
    board_options(board, args)
    return _symbols(board, args), path


def _symbols(board, args):
    """--symbols FILE[@vmid=N|@el2] attached to ``board``."""
    from vizor.machine.board.loader import ImageError
    for spec in getattr(args, "symbols", []):
        try:
            board.contexts.attach_file(spec)
        except (ImageError, ValueError) as e:
            raise UsageError(f"--symbols {spec!r}: {e}" if "--symbols" not in str(e) else str(e)) from None
    return board
