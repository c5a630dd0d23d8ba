"""Plain-text views of a stopped board: translation walks and decoded core state.

What ``vizor run --walk VA`` and ``--state`` print.  Presentation only: the
walks come from ``machine/mmu.py`` (through ``machine/faults.translation_regs``)
and the register decodings from ``machine/decode.py``; this module only words
them (the few bits it looks at itself -- which TTBR, EPDn -- say why a walk
never started).

Regimes a walk can be asked for (``REGIMES``):
- ``auto``: the regime of the code the core runs: EL0/EL1 -> ``el10`` (or
  ``sel10`` in Secure state), EL2 -> ``el2``, EL3 -> ``el3``;
- ``el10``: the Non-secure EL1&0 regime: a guest VA through TTBR0/1_EL1 and, when HCR_EL2.VM (or DC) is
  set, stage 2 with every stage-1 table read translated too (S1PTW).  On a
  core at EL2 this is the EL1&0 context currently loaded, i.e. the guest the
  hypervisor last ran (or is about to run);
- ``sel10``: the Secure EL1&0 regime: TTBR0/1_EL1 with no stage 2 (EL2 does
  not act on Secure state);
- ``el2``: the hypervisor's own VA through TTBR0_EL2;
- ``el3``: the monitor's VA through TTBR0_EL3;
- ``s2``: an IPA through VTTBR_EL2/VTCR_EL2 only.
"""

from __future__ import annotations

from typing import Optional

import vizor.machine.arch.decode as D
from vizor.machine.arch.esr import decode_esr
from vizor.machine.arch.mmu import TranslationRegs, Walk, WalkStep, stage2_enabled
from vizor.machine.arch.mmu_fields import mair_lookup
from vizor.machine.cpu.faults import translation_regs
from vizor.machine.inspect.snapshot import walk_state

REGIMES = ("auto", "el10", "sel10", "el2", "el3", "s2")
_MASK64 = (1 << 64) - 1
_AP_EL10 = {0: "EL1 rw, EL0 none", 1: "EL1 rw, EL0 rw", 2: "EL1 ro, EL0 none", 3: "EL1 ro, EL0 ro"}
_AP_EL2 = {0: "rw", 1: "rw", 2: "ro", 3: "ro"}
_S2AP = {0: "no access", 1: "read-only", 2: "write-only", 3: "read/write"}
_SH = {0: "non-shareable", 1: "reserved", 2: "outer shareable", 3: "inner shareable"}
_APTABLE = {0: "no limit", 1: "no EL0 access", 2: "read-only", 3: "read-only, no EL0 access"}
_SIZE = {12: "4 KiB", 16: "64 KiB", 21: "2 MiB", 29: "512 MiB", 30: "1 GiB"}
_NEAR_SYMBOL = 0x1000  # name an address after a symbol only this close above it


class InspectError(ValueError):
    """Bad input to an inspector (an address, a core index): one line for the user."""


def parse_address(text: str, symbols) -> int:
    """A VA given as hex/decimal, a symbol, or ``symbol+offset``; a symbol may name
    its context as ``--break`` does (``schedule@vmid=3``, ``name@el=2``)."""
    s, at, ctx = text.strip().partition("@")
    try:
        if at:
            raise ValueError
        value = int(s.replace("_", ""), 0)
    except ValueError:
        name, _, off = s.partition("+")
        name = name.strip()
        if at:
            key, _, val = ctx.partition("=")
            try:
                vmid = int(val, 0) if key.strip() == "vmid" else None
            except ValueError:
                vmid = None
            if (key.strip(), val.strip()) != ("el", "2") and vmid is None or not hasattr(symbols, "resolve"):
                raise InspectError(f"--walk {text!r}: a symbol's context is @vmid=N or @el=2")
            try:
                addr = symbols.resolve(name, vmid, el2=vmid is None)
            except ValueError as e:
                raise InspectError(f"--walk {text!r}: {e}") from None
        else:
            addr = symbols.by_name.get(name) if name else None
        if addr is None:
            raise InspectError(f"--walk {text!r}: neither a number nor a symbol of the image "
                               f"(a guest's may need @vmid=N)")
        try:
            value = addr + (int(off.strip(), 0) if off else 0)
        except ValueError:
            raise InspectError(f"--walk {text!r}: bad offset {off!r}") from None
    if not 0 <= value <= _MASK64:
        raise InspectError(f"--walk {text!r}: not a 64-bit virtual address")
    return value


def parse_core(text: str, ncores: int) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        raise InspectError(f"--core {text!r}: not a core number (0-{ncores - 1})") from None
    if not 0 <= n < ncores:
        raise InspectError(f"--core {text}: no such core (the board has cores 0-{ncores - 1})")
    return n


def _words(decoded, label: str) -> str:
    """A flags decoder's summary without its leading register name."""
    text = decoded.summary
    return text[len(label) + 1:] if text.startswith(label + " ") else text


def _hex(v: int) -> str:
    return f"0x{v:x}"


# --- walks -------------------------------------------------------------------------

def walk_report(core, va: int, regime: str = "auto") -> str:
    """Every step of the walk of ``va`` on ``core`` as it stands, as text."""
    ws = walk_state(core, va, regime)
    if ws.walk is None:
        return f"walk of 0x{va:x} on core {core.index}: {ws.error}"
    return render_walk(ws.walk, ws.stage1, ws.regs, core.index, ws.el, ws.regime, core.board.symbols,
                       ws.security)


def render_walk(walk: Walk, s1: Optional[Walk], regs: TranslationRegs, core: int, el: int,
                regime: str, symbols=None, security=None) -> str:
    """``walk``: the whole translation; ``s1``: its stage-1 part alone (None for ``s2``);
    ``security``: the ``WalkSecurity`` of ``s1`` (which lookups and output are Secure)."""
    va = walk.input_address
    hit = symbols.lookup(va) if symbols is not None else None
    sym = symbols.format(va) if hit is not None and hit[1] < _NEAR_SYMBOL else f"0x{va:x}"
    lines: list[str] = []
    if regime == "s2":
        lines.append(f"walk of IPA {sym} on core {core} (EL{el}): stage 2 only")
        lines += _stage2_regs(regs)
        lines += _stage2_section(walk)
    elif regime in ("el2", "el3"):
        n = regime[2]
        world = " (Secure)" if n == "3" else " (Non-secure)"
        lines.append(f"walk of VA {sym} on core {core} (EL{el}): EL{n} regime, stage 1 only{world}")
        sctlr, tcr, ttbr, mair = (getattr(regs, f"{r}_el{n}") for r in ("sctlr", "tcr", "ttbr0", "mair"))
        lines.append(f"  SCTLR_EL{n} 0x{sctlr:x}: {_words(D.decode_sctlr(sctlr, int(n)), f'SCTLR_EL{n}')}")
        lines.append(f"  TCR_EL{n}   0x{tcr:x}: {D.decode_tcr_el2(tcr).summary}")
        lines.append(f"  TTBR0_EL{n} 0x{ttbr:x}   MAIR_EL{n} 0x{mair:016x}")
        lines += _stage1_section(s1, regs, regime, security)
    else:
        s2 = stage2_enabled(regs)
        how = (f"stage 1 + stage 2, VMID {regs.vttbr_el2 >> 48 & 0xFF}" if s2
               else "stage 1 only (HCR_EL2.VM=0)")
        if regime == "sel10":
            how = "stage 1 only (EL2 does not act on Secure state)"
        world = "Secure" if regime == "sel10" else "Non-secure"
        lines.append(f"walk of VA {sym} on core {core} (EL{el}): {world} EL1&0 regime, {how}")
        sctlr = _words(D.decode_sctlr(regs.sctlr_el1, 1), "SCTLR_EL1")
        lines.append(f"  SCTLR_EL1 0x{regs.sctlr_el1:x}: {sctlr}")
        lines.append(f"  TCR_EL1   0x{regs.tcr_el1:x}: {D.decode_tcr_el1(regs.tcr_el1).summary}")
        lines.append(f"  TTBR0_EL1 0x{regs.ttbr0_el1:x}   TTBR1_EL1 0x{regs.ttbr1_el1:x}   "
                     f"MAIR_EL1 0x{regs.mair_el1:016x}")
        if regime == "el10":
            lines.append(f"  HCR_EL2   0x{regs.hcr_el2:x}: {_words(D.decode_hcr(regs.hcr_el2), 'HCR_EL2')}")
        if s2:
            lines += _stage2_regs(regs)
        lines += _stage1_section(s1, regs, regime, security)
        if walk.stage2 is not None:
            lines += _stage2_section(walk.stage2)
    lines.append(_result_line(walk, regime))
    if security is not None and walk.fault is None:
        lines.append(f"security: the access is {security.text()}")
    return "\n".join(lines)


def _stage2_regs(regs: TranslationRegs) -> list[str]:
    return [f"  VTCR_EL2  0x{regs.vtcr_el2:x}: {D.decode_vtcr_el2(regs.vtcr_el2).summary}",
            f"  VTTBR_EL2 0x{regs.vttbr_el2:x}: {D.decode_vttbr(regs.vttbr_el2).summary}"]


def _stage1_section(s1: Walk, regs: TranslationRegs, regime: str, security=None) -> list[str]:
    el2 = regime in ("el2", "el3")
    n = regime[2] if el2 else "1"
    space = "IPA" if regime == "el10" and stage2_enabled(regs) else "PA"
    priv = f"EL{n}"
    if not s1.mmu_enabled:
        reg = f"SCTLR_EL{n}.M=0" if el2 else ("HCR_EL2.DC=1" if regs.hcr_el2 >> 12 & 1 else "SCTLR_EL1.M=0")
        if s1.fault is not None:
            return [f"stage 1: off ({reg}), {s1.fault}"]
        return [f"stage 1: off ({reg}): {space} = VA, 0x{s1.output:x}, {s1.permissions.text(priv)}, "
                f"{s1.mem_type}"]
    if el2:
        ttbr = f"TTBR0_EL{n}"
    else:
        tbi = regs.tcr_el1 >> (38 if s1.input_address >> 55 & 1 else 37) & 1
        ttbr = f"TTBR{s1.input_address >> (55 if tbi else 63) & 1}_EL1"
    lines = [f"stage 1 ({ttbr}, VA -> {space}):"]
    if not s1.steps:
        why = ""
        if s1.fault is not None and s1.fault.kind == "translation":
            sel = ttbr[4]
            epd = not el2 and regs.tcr_el1 >> (23 if sel == "1" else 7) & 1
            tcr = f"TCR_EL{n}"
            why = (f" ({tcr}.EPD{sel}=1: walks through {ttbr} disabled)" if epd
                   else f" (VA outside the range {tcr}.T{sel}SZ gives {ttbr})")
        lines.append(f"  no table walk: {s1.fault}{why}")
        return lines
    mair = getattr(regs, f"mair_el{n}")
    for i, st in enumerate(s1.steps):
        step = _step_lines(st, space, "VA", mair, regime)
        if security is not None and security.secure_regime:
            step[0] += f"  ({'Secure' if security.lookups[i] else 'Non-secure'} lookup)"
        lines += step
    if s1.fault is not None:
        lines.append(f"  => {s1.fault}")
    else:
        lines.append(f"  => {space} 0x{s1.output:x}, {s1.permissions.text(priv)}, {s1.mem_type}")
    return lines


def _stage2_section(s2: Walk) -> list[str]:
    lines = [f"stage 2 (VTTBR_EL2, VMID {s2.vmid}, IPA -> PA):"]
    lines += ["  " + ln for ln in _steps_and_result(s2, "IPA")]
    return lines


def _steps_and_result(walk: Walk, ia_name: str) -> list[str]:
    lines: list[str] = []
    if not walk.steps:
        lines.append(f"no table walk: {walk.fault}")
        return lines
    for st in walk.steps:
        lines += [ln[2:] for ln in _step_lines(st, "PA", ia_name, 0, "stage2")]
    if walk.fault is not None:
        lines.append(f"=> {walk.fault}")
    else:
        lines.append(f"=> PA 0x{walk.output:x}, {_rwx(walk)}, {walk.mem_type}")
    return lines


def _step_lines(st: WalkStep, space: str, ia_name: str, mair: int, regime: str) -> list[str]:
    hi, lo = st.ia_bits
    head = (f"  L{st.level}  table {space} 0x{st.table_base:x}, index {st.index} "
            f"from {ia_name}[{hi}:{lo}]")
    concat = _concatenated(st.level, hi, lo)
    if concat > 1:
        head += f" ({concat} concatenated tables)"
    if space == "IPA":
        pa = _hex(st.desc_pa) if st.desc_pa is not None else "(none)"
        where = f"desc IPA 0x{st.desc_addr:x} -> PA {pa}"
    else:
        where = f"desc PA 0x{st.desc_addr:x}"
    raw = "(not read)" if st.desc is None else f"0x{st.desc:016x}"
    lines = [head, f"      {where} = {raw}"]
    if st.s2_walk is not None:
        lines.append(f"      | stage 2 of the descriptor's IPA 0x{st.desc_addr:x} (S1PTW):")
        lines += ["      | " + ln for ln in _steps_and_result(st.s2_walk, "IPA")]
    if st.kind == "abort":
        lines.append("      descriptor read failed (see the fault below)")
    elif st.kind == "invalid":
        lines.append(f"      invalid (bits[1:0]=0b{st.desc & 3:02b}" +
                     (", a block is not allowed at this level)" if st.desc & 3 == 1 else ")"))
    elif st.kind == "reserved":
        lines.append("      reserved (0b01 at level 3)")
    elif st.kind == "table":
        extra = ""
        if st.ap_table is not None:
            extra = (f"  NSTable={int(st.ns_table)} APTable=0b{st.ap_table:02b} ({_APTABLE[st.ap_table]}) "
                     f"UXNTable={int(st.uxn_table)}")
            if st.pxn_table is not None:
                extra += f" PXNTable={int(st.pxn_table)}"
        lines.append(f"      table -> next level at {space} 0x{st.output:x}{extra}")
    else:
        lines += _leaf_lines(st, mair, regime, lo)
    return lines


def _concatenated(level: int, hi: int, lo: int) -> int:
    """How many start-level tables the index spans (stage 2 may concatenate up to 16)."""
    for grain in (12, 16):
        if lo == grain + (3 - level) * (grain - 3):
            extra = hi - lo + 1 - (grain - 3)
            return 1 << extra if extra > 0 else 1
    return 1


def _leaf_lines(st: WalkStep, mair: int, regime: str, lo: int) -> list[str]:
    size = _SIZE.get(lo, f"2^{lo} bytes")
    oa_base = st.output & ~((1 << lo) - 1)
    first = f"      {st.kind} ({size}): OA 0x{oa_base:x}"
    common = f"SH=0b{st.sh:02b} ({_SH[st.sh]}) AF={int(st.af)} Contiguous={int(st.contiguous)}"
    if st.stage == 2:
        return [first, f"      S2AP=0b{st.s2ap:02b} ({_S2AP[st.s2ap]}) XN={int(st.xn)} "
                       f"MemAttr=0x{st.memattr:x} ({st.mem_type}) {common}"]
    el2 = regime in ("el2", "el3")
    ap = f"AP=0b{st.ap:02b} ({(_AP_EL2 if el2 else _AP_EL10)[st.ap]})"
    xn = f"XN={int(st.uxn)}" if el2 else f"UXN={int(st.uxn)} PXN={int(st.pxn)}"
    attr = (f"AttrIndx={st.attr_index} -> MAIR_EL{regime[2] if el2 else 1}.Attr{st.attr_index}="
            f"0x{mair_lookup(mair, st.attr_index):02x} ({st.mem_type})")
    ng = "" if st.ng is None else f" nG={int(st.ng)}"
    return [first, f"      {ap} {xn} {attr}", f"      {common}{ng} NS={int(st.ns)}"]


def _result_line(walk: Walk, regime: str) -> str:
    if walk.fault is not None:
        f = walk.fault
        where = ""
        if f.s1ptw and walk.steps:
            where = f", reading the level-{walk.steps[-1].level} stage-1 table"
        return f"result: FAULT, {f}{where} (DFSC 0x{f.status_code:02x})"
    priv = f"EL{regime[2]}" if regime in ("el2", "el3") else "EL1"
    if regime == "s2":
        priv = "stage 2"
    perms = walk.permissions.text(priv) if regime != "s2" else _rwx(walk)
    path = f"VA 0x{walk.input_address:x}"
    if walk.stage == 12:
        path += f" -> IPA 0x{walk.ipa:x}"
    elif regime == "s2":
        path = f"IPA 0x{walk.input_address:x}"
    return f"result: {path} -> PA 0x{walk.output:x}, {perms}, {walk.mem_type}"


def _rwx(walk: Walk) -> str:
    p = walk.permissions
    return ("r" if p.priv_r else "-") + ("w" if p.priv_w else "-") + ("x" if p.priv_x else "-")


# --- core state ---------------------------------------------------------------------

def state_report(board) -> str:
    """Each core's decoded state: EL and SP, MMU, stage 2 and VMID, HCR_EL2, last exception."""
    return "\n".join(core_state_lines(board, c) for c in board.cores)


def core_state_lines(board, core) -> str:
    pstate = core.pstate
    el = D.el_of(pstate)
    cpsr = D.decode_cpsr(pstate)
    sp = f"SP_EL{el}" if pstate & 1 else "SP_EL0"
    fault = f" [{core.fault}]" if core.fault else ""
    lines = [f"core {core.index}: {cpsr.summary.split()[0]} (SP = {sp}), {core.state}, "
             f"PC {board.contexts.format(core, core.pc)}, {core.instructions:,} instructions{fault}",
             f"  PSTATE    0x{pstate:x}: {cpsr.summary}"]
    regs = translation_regs(core)
    if el == 3:
        sctlr3 = core.sysreg("SCTLR_EL3")
        lines.append(f"  MMU       EL3 stage 1 {'on' if sctlr3 & 1 else 'off'} (SCTLR_EL3.M={sctlr3 & 1})")
    elif el == 2:
        m = regs.sctlr_el2 & 1
        lines.append(f"  MMU       EL2 stage 1 {'on' if m else 'off'} (SCTLR_EL2.M={m})"
                     + (f", TTBR0_EL2 0x{regs.ttbr0_el2:x}" if m else ""))
    else:
        m = regs.sctlr_el1 & 1
        dc = regs.hcr_el2 >> 12 & 1
        state = "on" if m and not dc else "off"
        lines.append(f"  MMU       EL1&0 stage 1 {state} (SCTLR_EL1.M={m}{', HCR_EL2.DC=1' if dc else ''})")
    hcr = regs.hcr_el2
    lines.append(f"  HCR_EL2   0x{hcr:x}: {_words(D.decode_hcr(hcr), 'HCR_EL2')}")
    vmid = core.vmid(el)
    s2_on = stage2_enabled(regs) and el < 3
    if vmid is not None:
        lines.append(f"  guest     VMID {vmid} running at EL{el} (stage 2 on, "
                     f"{D.decode_vttbr(regs.vttbr_el2).summary})")
    elif s2_on and el == 2:
        m1 = regs.sctlr_el1 & 1
        lines.append(f"  guest     none running (core at EL2); loaded EL1&0 context: VMID "
                     f"{regs.vttbr_el2 >> 48 & 0xFF}, stage 2 on, guest stage 1 {'on' if m1 else 'off'}")
    elif el < 2:
        lines.append("  guest     no stage 2 (HCR_EL2.VM=0): EL1 addresses are physical after stage 1")
    if core.exceptions:
        lines += _exception_lines(board, core)
    else:
        lines.append("  last exception: none taken")
    return "\n".join(lines)


def _exception_lines(board, core) -> list[str]:
    rec = core.exceptions[-1]
    total = sum(core.exception_counts.values())
    head = (f"  last exception ({total:,} taken): {rec.kind} EL{rec.from_el} -> EL{rec.to_el}"
            + (f", VMID {rec.vmid}" if rec.vmid is not None else ""))
    lines = [head]
    if rec.kind == "sync":
        esr = decode_esr(rec.esr)
        lines.append(f"    ESR_EL{rec.to_el} 0x{rec.esr:08x}: {esr.summary}")
    lines.append(f"    ELR_EL{rec.to_el} {board.contexts.table(rec.vmid).format(rec.elr)}"
                 + (f"  FAR_EL{rec.to_el} 0x{rec.far:x}" if rec.far is not None else ""))
    return lines
