"""The wall: layouts, display modes and their rules, tiles, hotkeys, legibility at a viewing distance."""
