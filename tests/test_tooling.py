"""The set-up and test scripts as a newcomer meets them: setup.sh says what it installs and roughly how long it
takes (no silent multi-minute pip), and the test command (README's scripts/test.sh) runs mypy."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def test_setup_says_what_it_installs_and_how_long() -> None:
    script = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    pips = [line for line in script.splitlines() if "pip install" in line]
    assert pips and not any(re.search(r"\s-q\b|>/dev/null", line) for line in pips)  # pip's progress shows
    steps = re.findall(r'^step "([^"]+)', script, re.MULTILINE)
    assert len(steps) >= len(pips)
    assert any("torch" in s and "minute" in s for s in steps)


def test_mypy_is_a_test_tool_and_runs_in_the_test_script() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(dep.startswith("mypy") for dep in project["project"]["optional-dependencies"]["test"])
    assert project["tool"]["mypy"]["files"]
    script = (REPO / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "mypy" in script and script.index("mypy") < script.index("pytest")
