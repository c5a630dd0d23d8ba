"""`vizor mksd` cards against the standard FAT tools, oracles no one here wrote
(issue 18, items 5-6):

- dosfstools' ``fsck.fat -n`` passes the partition (FSInfo's free count right,
  boot sector and its backup the same, every chain and directory sound);
- mtools reads the card without ``MTOOLS_SKIP_CHECK``, both the whole MBR image
  at the partition's offset (``card.img@@1M``) and the partition alone:
  ``minfo`` shows a real geometry and hidden sectors = the partition's start,
  ``mcopy`` gives every file back byte for byte, ``mtype`` finds files by
  their short names;
- the short (8.3) names are those mkfs.fat + mcopy give the same files in the
  same order (``mdir -a``), numeric tails ``~1``, ``~2``, ... included.

CI installs dosfstools and mtools; without them these tests skip."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

from vizor.cli.mksd import make_sd_image

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
FSCK = shutil.which("fsck.fat", path=SBIN)
MKFS = shutil.which("mkfs.fat", path=SBIN)
MTOOLS = all(shutil.which(t) for t in ("mdir", "mcopy", "mtype", "minfo"))
requires_mtools = pytest.mark.skipif(not MTOOLS, reason="mtools is not installed (CI installs it)")
requires_fsck = pytest.mark.skipif(FSCK is None, reason="dosfstools' fsck.fat is not installed (CI installs it)")

SECTOR = 512
# In this order on the card and in the reference: a literal "LONGFI~1.TXT" first,
# so that the long names after it take ~2, ~3, ... in mtools too.
NAMES = ["LONGFI~1.TXT", "config.txt", "kernel8.img", "start.elf", "LICENCE.broadcom",
         "Long File Name.txt"] + [f"Long File Name {i}.txt" for i in range(1, 12)] + [
         "Hello.Txt", "UPPER.TXT", "BOOTCODE.bin", "kernel8.IMG2", "a.b.c", "ab+cd.txt", "x y.txt",
         "verylongname", ".hidden", "empty", "bcm2710-rpi-3-b.dtb", "fixup.dat", "cmdline.txt",
         "  lead.txt", "+plus", "ABC.DEF.GHI", "[x].txt", "a..b", "a=b;c.txt", "ver.long.ext.tar.gz",
         "x.y z", "Thirteen.char", "A name of 26 characters.md", "Long " * 40 + "name.txt"]
# Not ASCII: short names differ from mtools' (vizor writes "_" with a tail where
# mtools uses code page 850), the long names must come back as they were.
UNICODE_NAMES = ["Grüße.txt", "naïve file.txt", "日本語.txt", "Ünïcödé " * 20 + "end.bin"]


def tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MTOOLS_SKIP_CHECK"}
    env["MTOOLSRC"] = os.devnull       # no user configuration: the image speaks for itself
    env["LC_ALL"] = "C"
    return env


def tool(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, env=tool_env(), timeout=120)


def content(name: str, i: int) -> bytes:
    if name == "empty":
        return b""
    if name.endswith((".img", ".elf")):
        return bytes((i * 7 + k * 13) & 0xFF for k in range(70_000 + i))   # many clusters
    return f"{name} {i}\n".encode() * (i + 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    for i, name in enumerate(NAMES):
        (d / name).write_bytes(content(name, i))
    tree = d / "overlays"
    (tree / "sub dir").mkdir(parents=True)
    (tree / "README").write_bytes(b"overlays\n")
    (tree / "i2c-rtc.dtbo").write_bytes(b"\xd0\x0d\xfe\xed" * 300)
    (tree / "sub dir" / "Deep Name.bin").write_bytes(bytes(range(256)) * 9)
    return d, [str(d / n) for n in NAMES] + [str(tree)]


@pytest.fixture(scope="module")
def card(files, tmp_path_factory):
    """A card by `vizor mksd` and its partition alone."""
    _d, paths = files
    out = tmp_path_factory.mktemp("card") / "card.img"
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "mksd", str(out), *paths],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    start, count = struct.unpack_from("<II", data, 446 + 8)
    part = out.with_name("part.img")
    part.write_bytes(data[start * SECTOR:(start + count) * SECTOR])
    return str(out), start, str(part)


def targets(card) -> list[str]:
    """What mtools' -i is given: the whole card at the partition's offset, the partition alone."""
    out, start, part = card
    return [f"{out}@@{start * SECTOR}", part]


@requires_fsck
def test_fsck_fat_finds_nothing_wrong_in_the_partition(card):
    r = tool(FSCK, "-n", "-V", card[2])
    text = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode == 0, text
    lines = [s for s in text.splitlines() if s.strip()]
    # the version, "Starting check/repair pass.", "Starting verification pass." (-V), and
    # "part.img: N files, u/n clusters": nothing found, nothing to correct
    assert all(s.startswith(("fsck.fat ", "Starting ", card[2] + ":")) for s in lines), text


@requires_mtools
def test_mtools_accepts_the_boot_sector_without_skip_check(card):
    for target in targets(card):
        r = tool("minfo", "-i", target, "::")
        text = r.stdout.decode() + r.stderr.decode()
        assert r.returncode == 0, text
        heads = int(re.search(r"^heads: (\d+)$", text, re.M).group(1))
        sectors = int(re.search(r"^sectors per track: (\d+)$", text, re.M).group(1))
        assert heads and sectors
        # hidden sectors: the partition's start LBA, as in the MBR
        assert re.search(r"^hidden sectors: (\d+)$", text, re.M).group(1) == str(card[1])


@requires_mtools
def test_mcopy_gives_every_file_back_byte_for_byte(card, files, tmp_path):
    d, paths = files
    for n, target in enumerate(targets(card)):
        dest = tmp_path / str(n)
        dest.mkdir()
        r = tool("mcopy", "-s", "-n", "-i", target, "::/*", str(dest))
        assert r.returncode == 0, r.stderr.decode()
        for p in paths:
            for root, _dirs, names in os.walk(p):
                for name in names:
                    rel = os.path.relpath(os.path.join(root, name), d)
                    assert (dest / rel).read_bytes() == (d / rel).read_bytes(), rel
        assert sorted(os.listdir(dest)) == sorted(os.path.basename(p) for p in paths)


@requires_mtools
@pytest.mark.parametrize("short,long", [
    ("LICENC~1.BRO", "LICENCE.broadcom"), ("LONGFI~2.TXT", "Long File Name.txt"),
    ("LONGF~12.TXT", "Long File Name 10.txt"), ("KERNEL8.IMG", "kernel8.img"),
    ("CONFIG.TXT", "config.txt"), ("HELLO.TXT", "Hello.Txt"), ("AB_CD~1.TXT", "ab+cd.txt"),
    ("OVERLAYS/SUBDIR~1/DEEPNA~1.BIN", "overlays/sub dir/Deep Name.bin"),
])
def test_mtype_finds_files_by_their_short_names(card, files, short, long):
    d, _ = files
    r = tool("mtype", "-i", targets(card)[0], "::/" + short)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == (d / long).read_bytes()


ENTRY = re.compile(r"^(.{8} .{3}) +(<DIR>|\d+) +\d{4}-\d\d-\d\d +\d+:\d\d *(.*)$")


def listing(target: str, folder: str) -> list[tuple[str, str, str]]:
    """(short name, size or <DIR>, long name) of every entry mdir -a lists."""
    r = tool("mdir", "-a", "-i", target, "::/" + folder)
    assert r.returncode == 0, r.stderr.decode()
    return [m.groups() for m in map(ENTRY.match, r.stdout.decode().splitlines()) if m]


@pytest.fixture(scope="module")
def reference(files, card, tmp_path_factory):
    """mkfs.fat + mcopy: a FAT32 file system of the partition's size with the same files."""
    if MKFS is None or not MTOOLS:
        pytest.skip("mkfs.fat or mtools is not installed (CI installs them)")
    _d, paths = files
    ref = str(tmp_path_factory.mktemp("ref") / "ref.img")
    size = os.path.getsize(card[2])
    r = tool(MKFS, "-C", "-F", "32", "-n", "VIZOR", ref, str(size // 1024))
    assert r.returncode == 0, r.stderr.decode()
    for p in paths:      # one at a time: the order decides the numeric tails
        r = tool("mcopy", "-s", "-i", ref, p, "::")
        assert r.returncode == 0, r.stderr.decode()
    return ref


@requires_mtools
@pytest.mark.parametrize("folder", ["", "overlays", "overlays/sub dir"])
def test_short_names_are_those_mkfs_fat_and_mcopy_give(card, reference, folder):
    ours = listing(targets(card)[0], folder)
    theirs = listing(reference, folder)
    if folder:       # mcopy -s copies a tree in the host's readdir order: compare as sets
        ours, theirs = sorted(ours), sorted(theirs)
    assert ours == theirs
    assert len(ours) >= 3


@requires_mtools
def test_the_root_lists_every_long_name(card):
    r = tool("mdir", "-b", "-i", targets(card)[0], "::/")
    names = [line.decode().removeprefix("::/") for line in r.stdout.splitlines()]
    assert names == NAMES + ["overlays/"]


def test_make_sd_image_is_a_power_of_two_with_an_mbr(tmp_path):
    (tmp_path / "Some Long Name.txt").write_bytes(b"x" * 5000)
    out = tmp_path / "card.img"
    assert make_sd_image(str(out), [str(tmp_path / "Some Long Name.txt")]) == 64 << 20
    data = out.read_bytes()
    assert len(data) == 64 << 20 and data[510:512] == b"\x55\xaa" and data[0x1C2] == 0x0C
    assert struct.unpack_from("<I", data, 0x1C6)[0] == 2048


@requires_mtools
@requires_fsck
def test_names_beyond_ascii_come_back_as_they_were(tmp_path):
    for i, name in enumerate(UNICODE_NAMES):
        (tmp_path / name).write_bytes(content(name, i))
    out = tmp_path / "card.img"
    make_sd_image(str(out), [str(tmp_path / n) for n in UNICODE_NAMES])
    env = {**tool_env(), "LC_ALL": "C.UTF-8"}
    r = subprocess.run(["mdir", "-b", "-i", f"{out}@@{2048 * SECTOR}", "::/"], capture_output=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    assert [s.removeprefix("::/") for s in r.stdout.decode().splitlines()] == UNICODE_NAMES
    back = tmp_path / "back"
    back.mkdir()
    for i, name in enumerate(UNICODE_NAMES):
        r = subprocess.run(["mcopy", "-n", "-i", f"{out}@@{2048 * SECTOR}", "::/" + name, str(back)],
                           capture_output=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
        assert (back / name).read_bytes() == content(name, i)
    part = tmp_path / "part.img"
    part.write_bytes(out.read_bytes()[2048 * SECTOR:])
    r = tool(FSCK, "-n", str(part))
    assert r.returncode == 0, r.stdout.decode()


def test_the_same_files_give_the_same_image(files, tmp_path):
    _d, paths = files
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    make_sd_image(str(a), paths)
    make_sd_image(str(b), paths)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("make,message", [
    (lambda d: (d / "a:b").write_bytes(b""), "'a:b': FAT names cannot hold ':'"),
    (lambda d: [(d / n).write_bytes(b"") for n in ("Kernel.img", "KERNEL.IMG")],
     "are the same name on FAT"),
    (lambda d: (d / "sub").mkdir() or (d / "sub" / "up").symlink_to(".."), "a link to a directory it is in"),
])
def test_what_fat_cannot_hold_is_one_line_and_status_2(tmp_path, make, message):
    d = tmp_path / "in"
    d.mkdir()
    make(d)
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "mksd", str(tmp_path / "card.img"), str(d)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "card.img").exists()
