"""Where the Pi firmware puts the kernel, the initramfs and the device tree, and what x0 holds.

The placement rules (the same for `vizor run IMAGE --dtb --initrd --append`
and for a card's config.txt, config.py):

* the kernel at ``kernel_address``; by default 0x80000 (0 with
  ``kernel_old=1``), except a 64-bit Linux Image (the arm64 boot header,
  magic "ARM\\x64"), which goes at 0x200000 + its text_offset as the current
  firmware loads 64-bit kernels and the arm64 boot protocol asks (a 2 MiB
  aligned base: at 0x80000 Linux warns "Kernel image misaligned at boot");
* the initramfs at its own address, or with ``followkernel`` (the default)
  on the first page after the kernel: after its file, or after the
  ``image_size`` an arm64 Image header declares (BSS included) if larger;
* the device tree at ``device_tree_address``, by default on the first page
  after the initramfs (or the kernel), patched (devicetree.py): /chosen
  bootargs and initrd-start/end, /memory = 0..``ARM_MEMORY_TOP``;
* core 0 starts at the kernel in EL2h with x0 = the device tree, cores 1-3
  wait on the spin table; with ``kernel_old=1`` every core starts at 0 in
  EL3h (x0 = the device tree as well, if there is one).

``disable_commandline_tags=1`` leaves RAM below the kernel and the tree
alone: no tree is loaded.  With an ``armstub`` the stub runs at 0 on every
core at EL3 and the kernel sits at its address; if the stub holds the magic
0x5afe570b at 0xf0, its words at 0xf8 and 0xfc get the tree's and the
kernel's addresses and the magic and version words (0xf0-0xf7) are cleared,
leaving 0xf0 as core 3's spin-table slot (the slots are 0xd8 + 8n).  Every
problem is a ``BootError`` (one line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vizor.machine.board.devicetree import DeviceTreeError, patch_dtb
from vizor.machine.board.loader import RAM_TOP, Image, ImageError

ARM_MEMORY_TOP = 0x3C000000   # the GPU's 64 MiB (gpu_mem's default) above; the framebuffer lives there
PAGE = 0x1000
ARM64_MAGIC = b"ARM\x64"
LINUX_BASE = 0x200000
STUB_MAGIC_AT = 0xF0  # an armstub's magic and version words, then dtb_ptr32 and kernel_entry32
STUB_MAGIC = 0x5AFE570B


class BootError(ImageError):
    """The boot files cannot be placed; the message is meant for the user."""


@dataclass
class BootPlan:
    """What the firmware loads and where (None: the default placement)."""
    kernel: Image
    boot_el: int = 2
    kernel_address: int | None = None
    dtb: bytes | None = None
    dtb_name: str = "device tree"
    dtb_address: int | None = None
    initrd: bytes | None = None
    initrd_name: str = "initramfs"
    initrd_address: int | None = None
    cmdline: str | None = None
    patch_tree: bool = True
    notes: list[str] = field(default_factory=list)
    extra: list[tuple[int, bytes, str]] = field(default_factory=list)   # (pa, data, name): a kernel behind an armstub
    stub_words: bool = False   # an armstub with the magic: the tree's address at 0xf8, the kernel's at 0xfc


@dataclass(frozen=True)
class Placement:
    blobs: tuple[tuple[int, bytes], ...]   # (pa, data) beside the kernel's segments
    x0: int
    dtb_at: int | None
    initrd_at: tuple[int, int] | None


def stub_magic(stub: bytes) -> bool:
    """Whether an armstub asks for the firmware's words (the magic at 0xf0)."""
    return int.from_bytes(stub[STUB_MAGIC_AT:STUB_MAGIC_AT + 4], "little") == STUB_MAGIC


def _up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


def kernel_end(image: Image) -> int:
    """The first byte after the kernel: its segments, or an arm64 Image's image_size."""
    if image.kind == "raw":
        return blob_end(image.low, image.segments[0][1])
    return image.high


def blob_end(at: int, data: bytes) -> int:
    """The first byte after raw ``data`` loaded at ``at``; for an arm64 Linux Image,
    after the image_size its header declares (BSS included), if larger."""
    end = at + len(data)
    if len(data) >= 64 and data[56:60] == ARM64_MAGIC:
        end = max(end, at + int.from_bytes(data[16:24], "little"))
    return end


def arm64_text_offset(image: Image) -> int | None:
    """The text_offset of a raw image with the arm64 Linux boot header, else None."""
    data = image.segments[0][1] if image.kind == "raw" else b""
    if len(data) >= 64 and data[56:60] == ARM64_MAGIC:
        return int.from_bytes(data[8:16], "little")
    return None


def locate_kernel(plan: BootPlan) -> None:
    """Move a raw kernel to ``kernel_address``, or a Linux Image to 0x200000 + text_offset."""
    image = plan.kernel
    at = plan.kernel_address
    offset = arm64_text_offset(image)
    if at is None and offset is not None and plan.boot_el == 2:
        at = LINUX_BASE + offset
    if image.kind != "raw" or at is None or at == image.low:
        return
    data = image.segments[0][1]
    if at + len(data) > ARM_MEMORY_TOP or at & 3:
        raise BootError(f"{image.path}: {len(data):,} bytes cannot be loaded at {at:#x}")
    plan.kernel = Image(image.path, "raw", [(at, data, len(data))], at, image.symbols)


def place(plan: BootPlan) -> Placement:
    locate_kernel(plan)
    blobs: list[tuple[int, bytes]] = []
    used = [(plan.kernel.low, kernel_end(plan.kernel), plan.kernel.path)]
    for at, data, name in plan.extra:      # a kernel behind an armstub: its BSS is its too
        _fits(name, at, blob_end(at, data) - at, used)
        used.append((at, blob_end(at, data), name))
        blobs.append((at, data))
    initrd_at = None
    if plan.initrd is not None:
        at = plan.initrd_address if plan.initrd_address is not None else _up(max(end for _, end, _ in used))
        initrd_at = (at, at + len(plan.initrd))
        _fits(plan.initrd_name, at, len(plan.initrd), used)
        used.append((at, at + len(plan.initrd), plan.initrd_name))
        blobs.append((at, plan.initrd))
    dtb_at = None
    if plan.dtb is not None:
        try:
            dtb = (patch_dtb(plan.dtb, bootargs=plan.cmdline, initrd=initrd_at,
                             memory_top=ARM_MEMORY_TOP, what=plan.dtb_name)
                   if plan.patch_tree else plan.dtb)
        except DeviceTreeError as e:
            raise BootError(str(e)) from None
        dtb_at = plan.dtb_address if plan.dtb_address is not None else _up(max(end for _, end, _ in used))
        _fits(plan.dtb_name, dtb_at, len(dtb), used)
        blobs.append((dtb_at, dtb))
    if plan.stub_words:
        kernel_at = plan.extra[0][0] if plan.extra else 0
        blobs.append((STUB_MAGIC_AT, bytes(8) + (dtb_at or 0).to_bytes(4, "little")
                      + kernel_at.to_bytes(4, "little")))
    x0 = dtb_at if dtb_at is not None else 0x100
    return Placement(tuple(blobs), x0, dtb_at, initrd_at)


def _fits(name: str, at: int, size: int, used: list[tuple[int, int, str]]) -> None:
    if at < 0x1000 or at + size > ARM_MEMORY_TOP or at + size > RAM_TOP:
        raise BootError(f"{name}: {size:,} bytes at {at:#x} do not fit in the ARM's memory "
                        f"({0x1000:#x}..{ARM_MEMORY_TOP:#x})")
    for lo, hi, other in used:
        if at < hi and lo < at + size:
            raise BootError(f"{name}: {size:,} bytes at {at:#x} overlap {other} ({lo:#x}..{hi:#x})")


def describe(plan: BootPlan, placement: Placement) -> str:
    """One line: the kernel, where everything went, and how the cores start."""
    parts = [f"kernel {plan.kernel.path} at {plan.kernel.low:#x}"]
    if placement.initrd_at:
        parts.append(f"initramfs {plan.initrd_name} at {placement.initrd_at[0]:#x}")
    if placement.dtb_at is not None:
        parts.append(f"device tree {plan.dtb_name} at {placement.dtb_at:#x}")
    if plan.cmdline is not None:
        parts.append(f"cmdline {plan.cmdline!r}")
    parts.append("all cores at EL3" if plan.boot_el == 3 else "core 0 at EL2, cores 1-3 on the spin table")
    return ", ".join(parts + plan.notes)
