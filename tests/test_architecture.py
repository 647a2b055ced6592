"""The import rules of the README's "Architecture" section, and the money formatter."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_contracts import strongly_connected
from veza.money import format_money

ROOT = Path(__file__).resolve().parent.parent


class FakeGraph:
    def __init__(self, edges: dict[str, set[str]]):
        self.edges = edges

    def find_modules_directly_imported_by(self, module: str) -> set[str]:
        return self.edges.get(module, set())


def test_module_circles_are_found_and_straight_lines_are_not():
    circle = FakeGraph({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert strongly_connected(circle, {"a", "b", "c", "d"}) == [["a", "b", "c"]]
    line = FakeGraph({"a": {"b"}, "b": {"c"}})
    assert strongly_connected(line, {"a", "b", "c"}) == []


def test_the_project_keeps_every_import_contract():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (4999, "EUR", "€49.99"),
        (-4999, "EUR", "-€49.99"),
        (1234, "JPY", "¥1,234"),
        (12345, "KWD", "KWD12.345"),
        (0, "USD", "$0.00"),
        (None, "EUR", "—"),
    ],
)
def test_money_is_shown_with_the_currency_and_its_own_decimals(amount, currency, expected):
    assert format_money(amount, currency) == expected


def test_credits_can_be_shown_signed():
    assert format_money(250, "EUR", signed=True) == "+€2.50"
