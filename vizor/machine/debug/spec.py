"""Stop conditions written as text, for the command line and the TUI.

    --break LOC[@vmid=N][@el=E][@core=C][@secure|@ns][@if=COND][@ignore=N]
    --break pa:ADDR|ipa:ADDR[@vmid=N]...   (at every VA that maps to it, now)
    --watch [pa:|va:]ADDR[+LEN][@r|@w|@rw][@vmid=N][@el=E][@core=C][@secure|@ns]
    --catch KIND[:ARG][@vmid=N][@el=E][@core=C][@secure|@ns]

LOC is a number or ``SYMBOL[+OFF]``, resolved in the VMID's symbol context
when ``@vmid=`` is given (``machine/contexts.py``).  ADDR is a PA unless
``va:`` says it is a VA, which is translated on core 0 (or ``@core=``) at the
moment the watchpoint is set.  KIND is ``exception`` (ARG: an exception class
— a number or one of the names in ``EC_WORDS``), ``vm-exit``, ``vm-entry``,
``sysreg`` (ARG: the register, e.g. VTTBR_EL2), ``mmio``, ``smc`` (short for
``exception:smc``) or ``world`` (a world switch).  ``@secure`` / ``@ns`` name
a security state: where a breakpoint or watchpoint fires, the world an
exception is taken from, the world a switch enters.

Each ``add_*`` function sets the condition on a Debugger or raises
``SpecError`` (one line for the user) and sets nothing.
"""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.board.board import RAM_MAPPED
from vizor.machine.debug.stops import WORLDS, Filters

_MASK64 = (1 << 64) - 1
EC_WORDS = {
    "undefined": X.EC_UNKNOWN, "wfx": X.EC_WFX, "svc": X.EC_SVC, "hvc": X.EC_HVC, "smc": X.EC_SMC,
    "sysreg": X.EC_SYSREG, "iabt-lower": X.EC_IABT_LOWER, "iabt": X.EC_IABT_SAME,
    "pc-align": X.EC_PC_ALIGN, "dabt-lower": X.EC_DABT_LOWER, "dabt": X.EC_DABT_SAME,
    "brk": X.EC_BRK, "illegal": X.EC_ILLEGAL_STATE,
}


class SpecError(ValueError):
    """A stop condition that cannot be set, said in one line."""


def _number(text: str, what: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise SpecError(f"{what}: not a number: {text!r}") from None
    if not 0 <= value <= _MASK64:
        raise SpecError(f"{what}: {text!r} is not a 64-bit value")
    return value


def _split(spec: str, what: str) -> tuple[str, dict[str, str], list[str]]:
    head, *rest = spec.strip().split("@")
    if not head:
        raise SpecError(f"{what} {spec!r}: nothing before '@'")
    opts: dict[str, str] = {}
    flags: list[str] = []
    for part in rest:
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if eq:
            if key in opts:
                raise SpecError(f"{what} {spec!r}: @{key} given twice")
            opts[key] = value.strip()
        else:
            flags.append(key)
    return head.strip(), opts, flags


def _filters(opts: dict[str, str], spec: str, what: str, ncores: int = 4, check: bool = True,
             world: str | None = None) -> dict:
    out = {}
    for key in ("vmid", "el", "core"):
        if key in opts:
            out[key] = _number(opts.pop(key), f"{what} {spec!r} @{key}")
    try:
        Filters(out.get("vmid"), out.get("el") if check else None, out.get("core"), world).check(ncores)
    except ValueError as e:
        raise SpecError(f"{what} {spec!r}: {e}") from None
    if world is not None:
        out["world"] = world
    return out


def _world(flags: list[str], spec: str, what: str) -> str | None:
    """The @secure / @ns flag, taken out of ``flags``."""
    given = [f for f in flags if f in WORLDS]
    if len(given) > 1:
        raise SpecError(f"{what} {spec!r}: one world only (@secure or @ns)")
    for f in given:
        flags.remove(f)
    return given[0] if given else None


def _leftover(opts, flags, spec, what, allowed_flags=()):
    bad = [f"@{k}" for k in opts] + [f"@{f}" for f in flags if f not in allowed_flags]
    if bad:
        raise SpecError(f"{what} {spec!r}: unknown option {bad[0]}")


def resolve_location(board, text: str, vmid: int | None = None, what: str = "--break",
                     spec: str | None = None, el: int | None = None) -> int:
    name, plus, off = text.partition("+")
    try:
        value = int(name.replace("_", ""), 0) + (int(off, 0) if plus else 0)
    except ValueError:
        try:
            base = board.contexts.resolve(name.strip(), vmid, el2=el is not None and el >= 2)
        except ValueError as e:
            raise SpecError(f"{what} {spec or text!r}: {e}") from None
        try:
            value = base + (int(off, 0) if plus else 0)
        except ValueError:
            raise SpecError(f"{what} {spec or text!r}: bad offset {off!r}") from None
    if not 0 <= value <= _MASK64:
        raise SpecError(f"{what} {spec or text!r}: {value:#x} is wider than a 64-bit address")
    return value


def add_break(dbg, spec: str):
    loc, opts, flags = _split(spec, "--break")
    filt = _filters(opts, spec, "--break", world=_world(flags, spec, "--break"))
    cond = opts.pop("if", None)
    ignore = _number(opts.pop("ignore"), f"--break {spec!r} @ignore") if "ignore" in opts else 0
    _leftover(opts, flags, spec, "--break")
    try:
        if loc[:3].lower() == "pa:" or loc[:4].lower() == "ipa:":
            space, _, text = loc.partition(":")
            pa = _number(text, f"--break {spec!r}")
            if space.lower() == "pa" and pa >= RAM_MAPPED:
                raise SpecError(f"--break {spec!r}: PA {pa:#x} is outside RAM (0-{RAM_MAPPED - 1:#x}), "
                                f"where no code runs")
            found = dbg.add_physical_breakpoint(pa, space.lower(),
                                                condition=cond, ignore=ignore, **filt)
            return found[0]
        address = resolve_location(dbg.board, loc, filt.get("vmid"), spec=spec, el=filt.get("el"))
        return dbg.add_breakpoint(address, condition=cond, ignore=ignore, **filt)
    except ValueError as e:
        if isinstance(e, SpecError):
            raise
        raise SpecError(f"--break {spec!r}: {e}") from None


def add_watch(dbg, spec: str):
    where, opts, flags = _split(spec, "--watch")
    filt = _filters(opts, spec, "--watch", world=_world(flags, spec, "--watch"))
    _leftover(opts, flags, spec, "--watch", ("r", "w", "rw"))
    kinds = [f for f in flags if f in ("r", "w", "rw")]
    kind = kinds[-1] if kinds else "w"
    space = "pa"
    if where[:3].lower() in ("pa:", "va:"):
        space, where = where[:2].lower(), where[3:]
    addr_text, plus, length_text = where.partition("+")
    length = _number(length_text, f"--watch {spec!r} length") if plus else 8
    if space == "va":
        address = resolve_location(dbg.board, addr_text, filt.get("vmid"), "--watch", spec, filt.get("el"))
    else:
        address = _number(addr_text, f"--watch {spec!r}")
    try:
        kw = {"va" if space == "va" else "pa": address, "length": length,
              "reads": "r" in kind, "writes": "w" in kind}
        if space == "va" and "core" in filt:
            kw["via_core"] = filt["core"]
        return dbg.add_watchpoint(**kw, **filt)
    except ValueError as e:
        raise SpecError(f"--watch {spec!r}: {e}") from None


def add_catch(dbg, spec: str):
    head, opts, flags = _split(spec, "--catch")
    world = _world(flags, spec, "--catch")
    filt = _filters(opts, spec, "--catch", check=False)  # @el is the EL the exception goes to
    _leftover(opts, flags, spec, "--catch")
    kind, _, arg = head.partition(":")
    kind = kind.lower()
    if kind == "smc":
        if arg:
            raise SpecError(f"--catch {spec!r}: smc takes no ':{arg}'")
        kind, arg = "exception", "smc"
    kw: dict = {"vmid": filt.get("vmid"), "core": filt.get("core"), "world": world}
    if "el" in filt:
        kw["to_el"] = filt["el"]
    if kind == "world":
        if arg or "vmid" in filt or "el" in filt:
            raise SpecError(f"--catch {spec!r}: world takes only @secure, @ns and @core "
                            f"(the world a core enters)")
    elif world is not None and kind != "exception":
        raise SpecError(f"--catch {spec!r}: @{world} goes with exception, smc or world")
    if kind == "exception":
        if arg.lower() in ("irq", "fiq"):
            kw["exc_kind"] = arg.lower()
        elif arg:
            kw["ec"] = EC_WORDS.get(arg.lower())
            if kw["ec"] is None:
                kw["ec"] = _number(arg, f"--catch {spec!r} exception class")
    elif kind == "sysreg":
        if not arg:
            raise SpecError(f"--catch {spec!r}: name the register, e.g. sysreg:VTTBR_EL2")
        kw["register"] = arg
    elif kind in ("vm-exit", "vm-entry", "mmio"):
        if arg:
            raise SpecError(f"--catch {spec!r}: {kind} takes no ':{arg}'")
    elif kind != "world":
        raise SpecError(f"--catch {spec!r}: unknown event {kind!r} "
                        f"(exception, smc, world, vm-exit, vm-entry, sysreg, mmio)")
    try:
        return dbg.add_event_stop(kind, **kw)
    except ValueError as e:
        raise SpecError(f"--catch {spec!r}: {e}") from None
