"""README's promises hold: its two opening commands exist, CI runs README's test command, and every CLI
command README's tour uses exists."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from lskg.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _opening_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.DOTALL)
    assert block, "README must open with a bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_setup_and_test_commands_that_exist():
    start, test = _opening_commands()[:2]
    for command in (start, test):
        script = command.split()[-1]
        assert (REPO / script).is_file(), script
    assert test in (REPO / ".ci" / "run").read_text() or test.split()[-1] in (REPO / ".ci" / "run").read_text()


def test_every_lskg_command_in_readme_exists():
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", README, re.DOTALL))
    commands = set(re.findall(r"^lskg ([a-z-]+(?: [a-z-]+)?)", blocks, re.MULTILINE))
    assert commands, "the tour shows lskg commands"
    runner = CliRunner()
    for command in sorted(commands):
        words = command.split()
        result = runner.invoke(app, [*words, "--help"])
        if result.exit_code != 0 and len(words) == 2:  # the second word was an argument, not a subcommand
            result = runner.invoke(app, [words[0], "--help"])
        assert result.exit_code == 0, f"lskg {command}: {result.output}"
