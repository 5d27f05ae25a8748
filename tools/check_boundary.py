"""Fail when wallctl.core reaches Qt, pyqtgraph, or the I/O edges (run by ``make test``).

Two checks: a static one (every import statement in wallctl/core, including ones inside functions) and a
dynamic one (import every core module in a fresh interpreter, then look at sys.modules).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "wallctl" / "core"
FORBIDDEN = (
    "PySide6",
    "shiboken6",
    "pyqtgraph",
    "wallctl.qt",
    "wallctl.adapters",
    "wallctl.app",
    "paho",
    "simpleaudio",
    "amqtt",
)


def static_violations() -> list[str]:
    out = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno}: the core imports {name}")
    return out


def dynamic_violations() -> list[str]:
    modules = sorted("wallctl.core." + p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = [m for m in sys.modules if m.split('.')[0] in {[f for f in FORBIDDEN if '.' not in f]!r} "
        "or any(m.startswith(p) for p in ('wallctl.qt', 'wallctl.adapters', 'wallctl.app'))]\n"
        "print('\\n'.join(sorted(bad)))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    if res.returncode != 0:
        return [f"importing the core failed:\n{res.stderr}"]
    return [f"importing wallctl.core loads {m}" for m in res.stdout.split()]


def main() -> int:
    problems = static_violations() + dynamic_violations()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"core/Qt boundary: {len(problems)} violation(s)", file=sys.stderr)
        return 1
    print("core/Qt boundary: ok (wallctl.core imports no Qt, pyqtgraph or I/O adapter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
