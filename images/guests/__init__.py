"""Guests of the demo hypervisor (echo.elf, minios.elf), loaded at IPA 0."""
