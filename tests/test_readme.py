"""The README's commands are the ones CI runs."""

import re

from tests.conftest import REPO_ROOT


def _readme_commands():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", text, flags=re.S)


def test_readme_has_exactly_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in command for command in commands)
    install_and_demo, install_and_test = commands
    assert install_and_demo.endswith("fairrep demo")
    # torch 2.13.0 first, so that no range pulls the CUDA build
    for command in commands:
        installs = re.findall(r"pip install (\S+)", command)
        assert installs[0] == "torch==2.13.0", installs


def test_ci_runs_the_readme_test_command():
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci_lines[-1] == _readme_commands()[1]
