"""A card booted as the Pi 3's firmware boots it: config.txt, cmdline.txt, the
kernel, the device tree and the initramfs from its first FAT partition."""

from __future__ import annotations

from vizor.cli.fatread import FatError, FatVolume
from vizor.machine.board.config import BootConfig, ConfigError, parse_config

MAX_KERNEL = 256 << 20
MAX_DTB = 1 << 20          # a device tree (the Pi's are ~30 KB)
MAX_INITRD = 512 << 20     # an initramfs


class BootFilesError(Exception):
    """The boot files cannot be used; the message is meant for the user."""

DEFAULT_TREES = ("bcm2710-rpi-3-b.dtb", "bcm2837-rpi-3-b.dtb")


def card_plan(path: str, boot_el: int):
    from vizor.machine.board.firmware import BootPlan
    from vizor.machine.board.loader import ImageError, _load_elf, _load_raw
    try:
        vol = FatVolume(path)
    except FatError as e:
        raise BootFilesError(str(e)) from None
    try:
        text = vol.read_file("config.txt", 1 << 20)
        notes = [] if text is not None else ["no config.txt"]
        cfg = parse_config(text.decode("utf-8", "replace")) if text is not None else BootConfig()
        kernel_name = cfg.kernel or ("kernel8.img" if cfg.arm_64bit is not False else "kernel7.img")
        if cfg.kernel is None and cfg.arm_64bit is None:
            notes.append("arm_64bit=1 assumed (vizor runs AArch64 kernels)")
        data = vol.read_file(kernel_name, MAX_KERNEL)
        if data is None:
            raise BootFilesError(f"{path}: no {kernel_name} on the card's FAT partition")
        el = 3 if cfg.kernel_old or cfg.armstub else boot_el
        where = f"{path}:{kernel_name}"
        kernel = _load_elf(where, data) if data[:4] == b"\x7fELF" else _load_raw(where, data, el)
        kernel.source = data       # no file of its own: a recording embeds these bytes
        plan = BootPlan(kernel, boot_el=el, kernel_address=cfg.kernel_address, notes=notes)
        if not cfg.disable_commandline_tags:
            _tree(vol, cfg, plan, path)
            cmd = vol.read_file(cfg.cmdline, 1 << 16)
            if cmd is not None:
                plan.cmdline = cmd.decode("utf-8", "replace").splitlines()[0].strip() if cmd.strip() else ""
        if cfg.initramfs:
            plan.initrd = vol.read_file(cfg.initramfs, MAX_INITRD)
            if plan.initrd is None:
                raise BootFilesError(f"{path}: config.txt names initramfs {cfg.initramfs}, not on the card")
            plan.initrd_name, plan.initrd_address = cfg.initramfs, cfg.initramfs_address
        if cfg.armstub:
            _armstub(vol, cfg, plan, path)
        choices = ["kernel_old=1" if cfg.kernel_old else "", "disable_commandline_tags=1"
                   if cfg.disable_commandline_tags else "", f"enable_uart={int(cfg.enable_uart)}"
                   if cfg.enable_uart is not None else ""]
        plan.notes += [c for c in choices if c]
        if cfg.ignored:
            plan.notes.append("ignored: " + " ".join(cfg.ignored))
        return plan
    except (FatError, ConfigError, ImageError) as e:
        raise BootFilesError(str(e) if str(e).startswith(path) else f"{path}: {e}") from None
    finally:
        vol.close()


def _tree(vol: FatVolume, cfg: BootConfig, plan, path: str) -> None:
    if cfg.device_tree == "":
        return
    names = (cfg.device_tree,) if cfg.device_tree else DEFAULT_TREES
    for name in names:
        blob = vol.read_file(name, MAX_DTB)
        if blob is not None:
            plan.dtb, plan.dtb_name, plan.dtb_address = blob, name, cfg.device_tree_address
            return
    if cfg.device_tree:
        raise BootFilesError(f"{path}: config.txt names device_tree={cfg.device_tree}, not on the card")
    plan.notes.append("no device tree on the card")


def _armstub(vol: FatVolume, cfg: BootConfig, plan, path: str) -> None:
    stub = vol.read_file(cfg.armstub, 1 << 20)
    if stub is None:
        raise BootFilesError(f"{path}: config.txt names armstub={cfg.armstub}, not on the card")
    put_armstub(plan, stub, cfg.armstub, f"{path}:{cfg.armstub}", cfg.kernel_address)


def put_armstub(plan, stub: bytes, name: str, where: str, kernel_address: int | None) -> None:
    """The stub runs at 0 on every core at EL3; the kernel goes where it would
    go without one (``kernel_address``, a Linux Image at 0x200000 + text_offset,
    else 0x80000), and a stub with the magic at 0xf0 finds it and the tree in
    its words at 0xfc/0xf8 (firmware.py).  ``where`` names the stub in errors."""
    from vizor.machine.board.firmware import LINUX_BASE, arm64_text_offset, stub_magic
    from vizor.machine.board.loader import _load_raw
    kernel = plan.kernel
    if kernel.kind != "raw":
        raise BootFilesError(f"{kernel.path}: an ELF; an armstub ({name}) needs a raw kernel image")
    offset = arm64_text_offset(kernel)
    at = (kernel_address if kernel_address is not None
          else LINUX_BASE + offset if offset is not None else 0x80000)
    plan.extra.append((at, kernel.segments[0][1], kernel.path))
    plan.kernel = _load_raw(where, stub, 3)
    plan.kernel_address = 0
    plan.boot_el = 3
    plan.stub_words = stub_magic(stub)
    words = "" if plan.stub_words else " (no magic at 0xf0: its words left alone)"
    plan.notes.append(f"armstub {name} at 0{words}, kernel at {at:#x}")
