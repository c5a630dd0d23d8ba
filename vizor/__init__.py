"""vizor: a terminal debugger and inspector for hypervisors and bare-metal kernels on an
emulated Raspberry Pi 3 Model B.

Packages, top down (docs/architecture.md): ``cli`` (the command line) and ``app``
(the TUI) use ``driver`` (what owns a running board), which uses ``machine`` (the
emulated board, a library importing nothing above it); ``panes`` render the
machine's snapshots."""
