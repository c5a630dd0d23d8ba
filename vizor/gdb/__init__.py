"""The GDB remote serial protocol server: gdb (and what is built on it) attaches to vizor.

Threads are cores, registers include the system registers a hypervisor
developer asks for (VTTBR_EL2, HCR_EL2, CurrentEL...), memory is read through
the selected core's current translation regime, breakpoints ride on vizor's
own carriers (guest memory is never patched), and ``monitor`` speaks vizor's
command-line syntax (``monitor break schedule@vmid=3``).

- ``packets.py``: framing, checksums, acks, escaping and run-length decoding;
  pure, fuzzed.
- ``registers.py``: the register table and the target description XML.
- ``target.py``: what a packet asks of the board, run in the machine thread.
- ``monitor.py``: ``monitor`` (qRcmd) commands over vizor's own parsers.
- ``calls.py``: the runner side: a command that runs a function in the
  machine thread, and the stop reasons gdb is told.
- ``server.py``: the socket, one client at a time, and the packet dispatch.

A client of ``vizor.driver`` like the TUI: every access to the board goes
through the Runner's command queue, so one thread touches the board.  See
docs/gdb.md.
"""
