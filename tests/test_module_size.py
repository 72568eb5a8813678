"""Every module of the package reads in one sitting: at most 500 lines."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fairrep"
MAX_LINES = 500


def test_no_module_over_500_lines():
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
             for path in PACKAGE.rglob("*.py")}
    assert len(sizes) > 50
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, too_long
