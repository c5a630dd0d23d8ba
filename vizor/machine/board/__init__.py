"""The Raspberry Pi 3 Model B as a whole: four cores, RAM, the peripheral bus and the
wiring table of devices and interrupt lines, image loading, and symbol tables by context."""

from vizor.machine.board.board import RAM_MAPPED, Board, StopReason
from vizor.machine.board.contexts import SymbolContexts
from vizor.machine.board.loader import Image, ImageError, load_image, load_symbols
from vizor.machine.board.wiring import insert_sd

__all__ = ["Board", "StopReason", "RAM_MAPPED", "Image", "ImageError", "load_image", "load_symbols",
           "SymbolContexts", "insert_sd"]
