"""Debian's arm64 Linux 6.1 and busybox-static, fetched for the Linux boot tests
and benchmark (issue 19) and cached under tests/.linux-cache/ (gitignored:
third-party binaries are never committed).

    python tests/linux_material.py          # fetch (as root, with network), or say why not

Fetching adds arm64 as a foreign architecture, asks apt which kernel Debian's
`linux-image-arm64` stands for (the 6.1 series in bookworm), downloads it and
`busybox-static` with `apt-get download`, and keeps three files of them: the
kernel Image, the Pi 3 B's device tree and busybox.  Anything else (not root,
no apt, offline) leaves the cache as it was and prints why; the tests then
skip, naming `missing()`'s reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".linux-cache")
KERNEL_META = "linux-image-arm64:arm64"       # Debian's metapackage: depends on the current 6.1 kernel
BUSYBOX = "busybox-static:arm64"
DTB = "bcm2837-rpi-3-b.dtb"


@dataclass(frozen=True)
class Material:
    image: str              # the kernel's arm64 Image (Debian's /boot/vmlinuz-*)
    dtb: str                # broadcom/bcm2837-rpi-3-b.dtb from the same package
    busybox: str            # a static arm64 busybox
    version: str            # the packages, as fetched


def _paths(cache: str = CACHE) -> Material:
    version = ""
    if os.path.exists(os.path.join(cache, "VERSION")):
        with open(os.path.join(cache, "VERSION")) as f:
            version = f.read().strip()
    return Material(*(os.path.join(cache, n) for n in ("Image", DTB, "busybox")), version)


def missing(cache: str = CACHE) -> str | None:
    """Why the material cannot be used, or None when it is all there."""
    m = _paths(cache)
    if not m.version:       # VERSION is written last: a half-done fetch has none
        return (f"no Debian arm64 Linux 6.1 in {os.path.relpath(cache)} "
                "(fetched by .ci/run, or as root: python tests/linux_material.py)")
    for path in (m.image, m.dtb, m.busybox):
        if not os.path.isfile(path):
            return f"{path} is missing (fetch again: python tests/linux_material.py)"
    return None


def material(cache: str = CACHE) -> Material:
    """The cached files; check ``missing()`` first."""
    return _paths(cache)


def _run(*cmd: str, cwd: str | None = None) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _kernel_package() -> str:
    for line in _run("apt-cache", "depends", KERNEL_META).splitlines():
        name = line.strip().removeprefix("Depends:").strip()
        if line.strip().startswith("Depends:") and name.startswith("linux-image-6.1"):
            return name if ":" in name else name + ":arm64"
    raise RuntimeError(f"apt names no linux-image-6.1 package behind {KERNEL_META}")


def _extract(deb: str, into: str) -> set[str]:
    """Unpack the files of ``deb`` that ``_wanted`` names into ``into``; their names."""
    found = set()
    with (subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE) as proc,
          tarfile.open(fileobj=proc.stdout, mode="r|") as tar):
        for member in tar:
            target = _wanted(member.name) if member.isfile() else None
            if target is None:
                continue
            with tar.extractfile(member) as src, open(os.path.join(into, target), "wb") as out:
                shutil.copyfileobj(src, out)
            found.add(target)
    if proc.returncode:
        raise RuntimeError(f"dpkg-deb could not read {deb}")
    return found


def _wanted(name: str) -> str | None:
    name = name.removeprefix("./")
    if name.startswith("boot/vmlinuz-"):
        return "Image"
    if name.startswith("usr/lib/linux-image-") and name.endswith("/broadcom/" + DTB):
        return DTB
    if name == "bin/busybox":
        return "busybox"
    return None


def fetch(cache: str = CACHE) -> str:
    """Fetch into ``cache``; returns what happened, in one line.  RuntimeError
    when it cannot (the message says why)."""
    if missing(cache) is None:
        return f"cached: {material(cache).version}"
    if os.geteuid() != 0:
        raise RuntimeError("not root: cannot add arm64 to apt")
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise RuntimeError("no apt-get/dpkg-deb on this machine")
    try:
        if "arm64" not in _run("dpkg", "--print-foreign-architectures").split():
            _run("dpkg", "--add-architecture", "arm64")
            _run("apt-get", "update", "-qq")
        try:
            kernel = _kernel_package()
        except (RuntimeError, subprocess.CalledProcessError):
            _run("apt-get", "update", "-qq")
            kernel = _kernel_package()
        os.makedirs(cache, exist_ok=True)
        if os.path.exists(os.path.join(cache, "VERSION")):
            os.remove(os.path.join(cache, "VERSION"))      # until every file is in place again
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            _run("apt-get", "download", "-qq", kernel, BUSYBOX, cwd=tmp)
            debs = sorted(d for d in os.listdir(tmp) if d.endswith(".deb"))
            found = set().union(*(_extract(os.path.join(tmp, deb), cache) for deb in debs))
        lost = [n for n in ("Image", DTB, "busybox") if n not in found]
        if lost:
            raise RuntimeError(f"the packages hold no {', '.join(lost)}")
    except subprocess.CalledProcessError as e:
        why = (e.stderr or "").strip().splitlines()
        raise RuntimeError(f"{' '.join(e.cmd[:2])} failed: {why[-1] if why else e.returncode}") from None
    with open(os.path.join(cache, "VERSION"), "w") as f:
        f.write(" ".join(debs) + "\n")
    return f"fetched: {' '.join(debs)}"


if __name__ == "__main__":
    try:
        print(f"linux material: {fetch()}")
    except RuntimeError as e:
        print(f"linux material: not fetched ({e}); the Linux boot tests will skip", file=sys.stderr)
