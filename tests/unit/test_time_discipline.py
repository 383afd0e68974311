"""Time comes from the clock: no module but clock.py reads the system time."""

from __future__ import annotations

import ast
from pathlib import Path

import otrade

FORBIDDEN = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def system_time_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (name, node.func.attr) in FORBIDDEN:
                found.append(f"{path.name}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_the_clock_module_reads_the_system_time():
    package = Path(otrade.__file__).parent
    offenders = [
        call
        for path in sorted(package.rglob("*.py"))
        if path.name != "clock.py"
        for call in system_time_calls(path)
    ]
    assert offenders == []


def test_the_scan_finds_a_system_time_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime\nstamp = datetime.datetime.now()\n", encoding="utf-8")
    assert system_time_calls(sample) == ["sample.py:2 datetime.now()"]
