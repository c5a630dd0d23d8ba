"""Symbols per context: whose ``schedule`` is this?

A hypervisor and each of its guests are separate programs, and guests running
the same kernel share every virtual address.  A symbol table therefore
belongs to a *context*: the hypervisor (EL2, and EL3 if it has code there) or
one VMID (EL1/EL0 with stage 2 on).  The core decides which context is
running; names resolve in that context.

Tables come from the image itself (the EL2 context), from ``--symbols
FILE[@vmid=N|@el2]``, and from a manifest beside the image: ``IMAGE.symbols``
(for ``hyp.elf``, ``hyp.symbols``), one line per table::

    # comments and blank lines are ignored
    vmid=1 ../guests/echo.elf
    vmid=2 ../guests/minios.elf
    el2    extra-hyp-symbols.elf

Paths are relative to the manifest.  The demo hypervisor ships one, so its
guests' symbols are attached to their VMIDs automatically.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from vizor.machine.board.loader import ImageError, load_symbols
from vizor.machine.inspect.symbols import Symbols

EL2 = "el2"
_CTX = re.compile(r"^(?:vmid=(\d+)|el2)$")


@dataclass
class SymbolContexts:
    el2: Symbols = field(default_factory=Symbols)
    vms: dict[int, Symbols] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # context -> file

    # --- attaching -------------------------------------------------------------

    def attach(self, symbols: Symbols, context: str | int, source: str = "") -> None:
        """Attach a table to ``"el2"`` or a VMID (0-255)."""
        if context == EL2:
            merged = Symbols.from_list(self.el2._entries + symbols._entries) if len(self.el2) else symbols
            self.el2 = merged
            self.sources[EL2] = source
            return
        if not isinstance(context, int) or not 0 <= context <= 0xFF:
            raise ValueError(f"VMID {context!r} is out of range (0-255)")
        self.vms[context] = symbols
        self.sources[f"vmid={context}"] = source

    def attach_file(self, spec: str, base_dir: str = "") -> str:
        """``FILE[@vmid=N|@el2]`` (default @el2): load and attach; returns the context name."""
        path, _, ctx = spec.rpartition("@") if "@" in spec else (spec, "", "el2")
        m = _CTX.match(ctx)
        if not path or m is None:
            raise ValueError(f"--symbols {spec!r}: want FILE@vmid=N or FILE@el2")
        if base_dir and not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        symbols = load_symbols(path)
        if m.group(1) is not None:
            self.attach(symbols, int(m.group(1)), path)
            return f"vmid={int(m.group(1))}"
        self.attach(symbols, EL2, path)
        return EL2

    def attach_manifest(self, image_path: str) -> list[str]:
        """Attach the tables an ``IMAGE.symbols`` manifest names, if there is one."""
        manifest = os.path.splitext(image_path)[0] + ".symbols"
        if not os.path.isfile(manifest):
            return []
        done = []
        base = os.path.dirname(manifest)
        with open(manifest, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 2 or not _CTX.match(parts[0]):
                    raise ImageError(f"{manifest}:{n}: want 'vmid=N FILE' or 'el2 FILE', got {line!r}")
                try:
                    done.append(self.attach_file(f"{parts[1]}@{parts[0]}", base))
                except (ImageError, ValueError) as e:
                    raise ImageError(f"{manifest}:{n}: {e}") from None
        return done

    # --- looking up ----------------------------------------------------------------

    @property
    def by_name(self) -> dict[str, int]:
        """Every name that means one address whatever the context (EL2 names first)."""
        names: dict[str, int] = {}
        clash: set[str] = set()
        for table in self.vms.values():
            for n, a in table.by_name.items():
                if names.get(n, a) != a:
                    clash.add(n)
                names[n] = a
        for n in clash:
            del names[n]
        names.update(self.el2.by_name)
        return names

    def table(self, vmid: int | None) -> Symbols:
        """The table of a context: a VMID's if it has one, else the EL2 table."""
        if vmid is not None and vmid in self.vms:
            return self.vms[vmid]
        return self.el2

    def for_core(self, core) -> Symbols:
        return self.table(core.vmid())

    def format(self, core, addr: int) -> str:
        return self.for_core(core).format(addr)

    def resolve(self, name: str, vmid: int | None = None, el2: bool = False) -> int:
        """The address of ``name`` in a context; without one, wherever it is
        unique (EL2 first).  Raises ValueError naming the contexts otherwise."""
        if el2 and vmid is None:      # the hypervisor's own context (@el=2)
            if name in self.el2.by_name:
                return self.el2.by_name[name]
            where = sorted(v for v, t in self.vms.items() if name in t.by_name)
            raise ValueError(f"the hypervisor (EL2) has no {name!r}"
                             + (f"; it is in VMID {', '.join(map(str, where))}: add @vmid=" if where else ""))
        if vmid is not None:
            table = self.table(vmid)  # no table for that VMID: the image's own symbols
            if name in table.by_name:
                return table.by_name[name]
            raise ValueError(f"unknown symbol {name!r} in VMID {vmid}"
                             + ("" if vmid in self.vms else f" (no symbols attached to it: "
                                                            f"--symbols FILE@vmid={vmid})"))
        if name in self.el2.by_name:
            return self.el2.by_name[name]
        hits = {a for t in self.vms.values() for n, a in t.by_name.items() if n == name}
        where = sorted(v for v, t in self.vms.items() if name in t.by_name)
        if len(hits) == 1:
            return hits.pop()
        if hits:
            raise ValueError(f"symbol {name!r} has different addresses in VMIDs {where}: add @vmid=N")
        raise ValueError(f"unknown symbol {name!r}")
