"""The symbol tables a session carries: every table attached beyond the image's own
(``--symbols``, an ``IMAGE.symbols`` manifest such as the demo's ``hyp.symbols``)
is written into the header as its entries, so that ``vizor replay`` names
addresses as the recorded run did without the files.  Sessions written before
this (no ``symbols`` in the header) replay with the image's own symbols."""

from __future__ import annotations

import hashlib
import json
import os

from vizor.machine.inspect.symbols import Symbols
from vizor.machine.session.format import SessionError

MAX_ENTRIES = 500_000         # symbols in all the tables of one session
MAX_NAME = 4096


def _digest(entries: list) -> str:
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def symbols_record(contexts) -> list[dict]:
    """The header's ``symbols``: one record per table attached to a context."""
    if contexts is None:
        return []
    tables = [(f"vmid={v}", t) for v, t in sorted(contexts.vms.items())]
    if "el2" in contexts.sources:            # the image's table with more attached to it
        tables.insert(0, ("el2", contexts.el2))
    out = []
    for context, table in tables:
        entries = [[a, size, name] for a, size, name in table._entries]
        out.append({"context": context, "source": os.path.basename(contexts.sources.get(context, "")),
                    "sha256": _digest(entries), "entries": entries})
    return out


def attach_recorded(contexts, header: dict) -> list[str]:
    """Attach the tables a session header carries; the contexts attached.
    A malformed record is a SessionError (one line)."""
    records = header.get("symbols", [])
    if not isinstance(records, list):
        raise SessionError("corrupt: the header's symbols are not a list")
    total, done = 0, []
    for r in records:
        if not isinstance(r, dict) or not isinstance(r.get("entries"), list) \
                or not isinstance(r.get("context"), str):
            raise SessionError("corrupt: a symbol table record of the header")
        total += len(r["entries"])
        if total > MAX_ENTRIES:
            raise SessionError(f"oversized: more than {MAX_ENTRIES} symbols in the header")
        entries = []
        for e in r["entries"]:
            if not (isinstance(e, list) and len(e) == 3 and all(isinstance(x, int) for x in e[:2])
                    and isinstance(e[2], str) and 0 <= e[0] < 1 << 64 and 0 <= e[1] < 1 << 64
                    and len(e[2]) <= MAX_NAME):
                raise SessionError(f"corrupt: a symbol of the {r['context']} table")
            entries.append(tuple(e))
        if r.get("sha256") is not None and r["sha256"] != _digest([list(e) for e in entries]):
            raise SessionError(f"corrupt: the {r['context']} symbol table does not match its SHA-256")
        table = Symbols.from_list(entries)
        context = r["context"]
        if context == "el2":
            contexts.el2 = table
            contexts.sources["el2"] = r.get("source", "") or "the recording"
        elif context.startswith("vmid=") and context[5:].isdigit() and int(context[5:]) <= 255:
            contexts.attach(table, int(context[5:]), str(r.get("source", "")) or "the recording")
        else:
            raise SessionError(f"corrupt: symbol context {context!r}")
        done.append(context)
    return done
