"""The overlays hotkeys toggle over the wall's focus zone: diagnostics (``D``) and the list of keys (``?``)."""

from __future__ import annotations

from wallctl.core.wall.tiles import DiagnosticsOptions
from wallctl.qt.keys_overlay import HELP_KEY, KeysTile
from wallctl.qt.scene import WallScene
from wallctl.qt.tiles.diagnostics import DiagnosticsTile


def toggle_diagnostics(scene: WallScene) -> bool:
    """Show or hide the diagnostics overlay; returns whether it is now shown."""
    return scene.toggle_overlay(
        "diagnostics",
        lambda: DiagnosticsTile(
            "Diagnostics (press D to close)",
            DiagnosticsOptions(font_pt=18),
            scene.source,
            lambda: scene.factory.bindings,
        ),
    )


def toggle_keys(scene: WallScene) -> bool:
    """Show or hide the list of every key binding; returns whether it is now shown."""
    return scene.toggle_overlay(
        "keys", lambda: KeysTile(f"Keys of this wall (press {HELP_KEY} to close)", lambda: scene.factory.bindings)
    )
