"""config.txt as the Pi 3's firmware reads it (the keys vizor acts on).

Lines are ``key=value`` (``initramfs FILE ADDR|followkernel`` with spaces);
``#`` starts a comment.  ``[pi3]`` and ``[all]`` sections apply, other
model sections (``[pi4]``, ``[pi0]``, ``[pi3+]``, ``[none]`` ...) are skipped;
any other filter (``[HDMI:0]``, ``[gpio4=1]`` ...) is taken as true.  Keys the
firmware knows but vizor does not act on, and unknown keys, are collected in
``ignored`` (listed once, not refused).  Values are decimal or 0x-hex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTED_ON = ("kernel", "kernel_old", "arm_64bit", "kernel_address", "device_tree", "device_tree_address",
            "initramfs", "disable_commandline_tags", "enable_uart", "armstub", "cmdline")
OTHER_MODELS = ("pi0", "pi0w", "pi02", "pi1", "pi2", "pi3+", "pi4", "pi400", "pi5", "cm4", "cm3", "none")


class ConfigError(Exception):
    """A config.txt value that cannot be used; the message is meant for the user."""


@dataclass
class BootConfig:
    kernel: str | None = None
    kernel_old: bool = False
    arm_64bit: bool | None = None
    kernel_address: int | None = None
    device_tree: str | None = None          # "" : no device tree
    device_tree_address: int | None = None
    initramfs: str | None = None
    initramfs_address: int | None = None    # None: followkernel
    disable_commandline_tags: bool = False
    enable_uart: bool | None = None
    armstub: str | None = None
    cmdline: str = "cmdline.txt"
    ignored: list[str] = field(default_factory=list)


def _number(key: str, text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ConfigError(f"config.txt: {key}={text!r} is not a number") from None
    if value < 0 or value >> 32:
        raise ConfigError(f"config.txt: {key}={text} is outside the 32-bit address space")
    return value


def parse_config(text: str) -> BootConfig:
    cfg = BootConfig()
    active = True
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            active = section not in OTHER_MODELS
            continue
        if not active:
            continue
        if "=" in line:
            key, value = (s.strip() for s in line.split("=", 1))
        else:
            key, _, value = line.partition(" ")
            value = value.strip()
        key = key.lower()
        if key not in ACTED_ON:
            if key not in cfg.ignored:
                cfg.ignored.append(key)
            continue
        _apply(cfg, key, value)
    return cfg


def _apply(cfg: BootConfig, key: str, value: str) -> None:
    if key in ("kernel_old", "arm_64bit", "disable_commandline_tags", "enable_uart"):
        setattr(cfg, key, bool(_number(key, value or "0")))
    elif key in ("kernel_address", "device_tree_address"):
        setattr(cfg, key, _number(key, value))
    elif key == "initramfs":
        parts = value.split()
        if not parts or len(parts) > 2:
            raise ConfigError(f"config.txt: initramfs {value!r}: expected FILE ADDRESS|followkernel")
        cfg.initramfs = parts[0]
        where = parts[1] if len(parts) == 2 else "followkernel"
        cfg.initramfs_address = None if where.lower() == "followkernel" else _number("initramfs", where)
    else:   # kernel, device_tree, armstub, cmdline: file names
        setattr(cfg, key, value)
