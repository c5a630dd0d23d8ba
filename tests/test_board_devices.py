"""The SD card, RNG, watchdog and framebuffer kernels of images/tests on vizor,
against their .expected output, against QEMU raspi3b on the same ELF, and
through ``vizor run`` (--sd, --screenshot, power-off)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest
from conformance import check_name, image, without
from qemu_runner import QEMU_DEVIATIONS, qemu_available, run_qemu_uarts

from vizor.cli.mksd import make_sd_image
from vizor.cli.screenshot import read_png
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.board.wiring import insert_sd

requires_qemu = pytest.mark.skipif(not qemu_available(),
                                   reason="qemu-system-aarch64 is not installed (CI installs it)")
KERNELS = ("sdcard.elf", "rng.elf", "watchdog.elf", "framebuffer.elf")
HELLO = b"Hello from the SD card\n"
LONG = b"long name body\n"


@pytest.fixture(scope="module")
def sd_image(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("sd")
    (d / "hello.txt").write_bytes(HELLO)
    (d / "A long file name.txt").write_bytes(LONG)
    out = str(d / "card.img")
    make_sd_image(out, [str(d / "hello.txt"), str(d / "A long file name.txt")])
    return out


def run_kernel(name: str, sd: str | None = None, *, writable: bool = False, boot_el: int = 2,
               seed: int | None = None, max_insns: int = 40_000_000):
    board = Board()
    board.load(load_image(image(name), boot_el), boot_el)
    if seed is not None:
        board.devices["rng"].seed = seed
        board.devices["rng"].reset()
    if sd is not None:
        insert_sd(board, sd, writable)
    out: list[str] = []
    board.uart_listeners.append(lambda u, b: out.append(chr(b)) if u == "pl011" else None)
    reason = board.run(max_insns=max_insns,
                       stop=lambda: "done" if "DONE\n" in "".join(out[-64:]) and name != "watchdog.elf" else None)
    return "".join(out), reason, board


def expected(name: str) -> str:
    with open(image(name).replace(".elf", ".expected")) as f:
        return f.read()


def qemu_output(name: str, sd_image: str, tmp_path) -> str:
    sd = None
    if name == "sdcard.elf":
        sd = str(tmp_path / "qemu-card.img")
        shutil.copy(sd_image, sd)  # QEMU writes to its drive
    res = run_qemu_uarts(image(name), timeout=60, sd=sd, reboot=name == "watchdog.elf")
    assert res is not None and "DONE" in res["pl011"], f"QEMU did not finish {name}"
    return res["pl011"]


# --- vizor against the architecture / the board ------------------------------------

@pytest.mark.parametrize("boot_el", [2, 3])
@pytest.mark.parametrize("name", KERNELS)
def test_kernel_prints_the_expected_output(name, boot_el, sd_image):
    out, reason, _ = run_kernel(name, sd_image if name == "sdcard.elf" else None, boot_el=boot_el)
    assert out == expected(name)
    assert "FAIL" not in out


def test_sd_writes_stay_in_the_overlay_and_leave_the_image_unchanged(sd_image):
    before = hashlib.sha256(open(sd_image, "rb").read()).hexdigest()
    out, _, board = run_kernel("sdcard.elf", sd_image)
    assert "ok cmd25_cmd18" in out
    card = board.devices["emmc"].card
    assert sorted(card.image.overlay) == [100, 200, 201]
    assert card.image.overlay[100] == bytes((i * 7 + 3) & 0xFF for i in range(512))
    assert hashlib.sha256(open(sd_image, "rb").read()).hexdigest() == before
    st = board.devices["emmc"].state()
    assert dict(st.card.overlay)[200][:4] == bytes((0x5A, 0x5B, 0x58, 0x59))


def test_sd_writable_writes_reach_the_file(sd_image, tmp_path):
    card = str(tmp_path / "rw.img")
    shutil.copy(sd_image, card)
    run_kernel("sdcard.elf", card, writable=True)
    with open(card, "rb") as f:
        f.seek(100 * 512)
        assert f.read(512) == bytes((i * 7 + 3) & 0xFF for i in range(512))


def test_without_a_card_the_sd_commands_time_out():
    out, _, _ = run_kernel("sdcard.elf", None)
    assert "FAIL cmd0 go_idle" not in out  # CMD0 has no response to time out...
    assert "FAIL cmd8 if_cond=" in out      # ...but CMD8 does


def test_rng_words_repeat_for_a_seed_and_differ_between_seeds():
    def state(seed):
        _, _, board = run_kernel("rng.elf", seed=seed)
        return board.devices["rng"].state()
    a, b, c = state(1), state(1), state(2)
    assert a == b and a.taken > 0
    assert a.generator != c.generator


def test_watchdog_reset_restarts_the_board_and_the_halt_partition_powers_it_off():
    out, reason, board = run_kernel("watchdog.elf")
    assert reason.kind == "poweroff"
    assert board.power_cycles == 1
    assert out.count("watchdog boot") == 2


# --- vizor run ---------------------------------------------------------------------

def vizor(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vizor.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_vizor_run_ends_with_status_0_and_says_the_guest_powered_off():
    r = vizor("run", image("watchdog.elf"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "vizor: the guest powered the board off\n"   # on stderr, as every notice


def test_screenshot_shows_the_framebuffer_pixel_by_pixel(tmp_path):
    png = tmp_path / "fb.png"
    r = vizor("run", image("framebuffer.elf"), "--until-uart", "DONE", "--quiet", "--screenshot", str(png))
    assert r.returncode == 0, r.stderr
    w, h, rgb = read_png(png.read_bytes())
    assert (w, h) == (64, 48)
    bands = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    for y in range(h):
        for x in range(w):
            want = bands[y // 12]
            if 28 <= x < 36 and 20 <= y < 28:
                want = (0, 0, 0)
            if y == 0:
                want = (4 * x, 4 * x, 255 - 4 * x)
            i = 3 * (y * w + x)
            assert tuple(rgb[i:i + 3]) == want, (x, y)


@pytest.mark.parametrize("args,message", [
    (("--sd", "/nonexistent/card.img"), "--sd /nonexistent/card.img: No such file or directory"),
    (("--sd-writable",), "--sd-writable needs --sd FILE"),
    (("--screenshot", "shot.jpg"), "must end in .png"),
    (("--screenshot", "/nonexistent/dir/shot.png"), "cannot write there"),
])
def test_bad_sd_and_screenshot_options_are_one_line_and_status_2(args, message):
    r = vizor("run", image("rng.elf"), "--max-insns", "1000", *args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr


@pytest.mark.parametrize("args,message", [
    (("/nonexistent/dir/card.img", __file__), "No such file or directory"),
    (("card.img", "/nonexistent/file"), "/nonexistent/file: no such file or directory"),
])
def test_mksd_bad_input_is_one_line_and_status_2(args, message, tmp_path):
    r = vizor("mksd", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr


# --- QEMU ----------------------------------------------------------------------------

@requires_qemu
@pytest.mark.parametrize("name", KERNELS)
def test_vizor_matches_qemu_on_the_same_elf(name, sd_image, tmp_path):
    qemu = qemu_output(name, sd_image, tmp_path)
    out, _, _ = run_kernel(name, sd_image if name == "sdcard.elf" else None, boot_el=3)
    skip = QEMU_DEVIATIONS.get(name, ())
    assert without(out.splitlines(), skip) == without(qemu.splitlines(), skip)


@requires_qemu
@pytest.mark.parametrize("name", KERNELS)
def test_qemu_departs_from_the_board_only_where_listed(name, sd_image, tmp_path):
    qemu = qemu_output(name, sd_image, tmp_path)
    with open(image(name).replace(".elf", ".qemu.txt")) as f:
        assert qemu == f.read()
    differing = {check_name(a) for a, b in zip(qemu.splitlines(), expected(name).splitlines()) if a != b}
    for d in differing:
        assert d is not None and any(d.startswith(c) for c in QEMU_DEVIATIONS.get(name, ())), d


def test_vizor_run_with_sd_reads_the_file_from_the_card(sd_image):
    r = vizor("run", image("sdcard.elf"), "--sd", sd_image, "--until-uart", "DONE", "--quiet")
    assert r.returncode == 0, r.stderr
    assert 'ok file_long_name "A long file name.txt" size=15 text="long name body\\n"' in r.stdout


def test_a_power_cycle_keeps_the_cards_blocks_and_resets_its_protocol(sd_image):
    _, _, board = run_kernel("sdcard.elf", sd_image)
    card = board.devices["emmc"].card
    assert card.state != 0
    board.watchdog_reset(False)
    assert card.state == 0 and sorted(card.image.overlay) == [100, 200, 201]
    assert board.power_cycles == 1 and board.cores[0].pc == board._boot[0].entry


def test_rng_seed_option_seeds_the_boards_generator():
    from argparse import Namespace

    from vizor.cli.options import board_options
    board = Board()
    board_options(board, Namespace(rng_seed=42, sd=None, sd_writable=False))
    assert board.devices["rng"].state().seed == 42
