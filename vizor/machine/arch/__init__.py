"""The AArch64 architecture as pure functions and tables: instruction decoding, the
exception model, system-register encodings and trap rules, VMSAv8-64 translation
walks (forwards and backwards), and register layouts for display.  No Unicorn, no board."""
