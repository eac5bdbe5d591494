"""The documentation: a short README, generated pages that match what they are drawn from, every figure
on one page only, and links that lead somewhere."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from bench import report
from bench.run import KEYS
from infra import diagram

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# A figure: a number with a decimal point, an amount of money, or a number with a unit of time, size,
# share or capacity. Counts, status codes, ports and step numbers are not; neither are versions
# ("Python 3.12", "OpenAPI 3.1"), nor what code spans and code blocks show (inputs, commands, output).
_UNIT = r"(?:\s?(?:µs|ms|MB|MiB|KB|GB|bytes|ACUs?|seconds?|minutes?|hours?|days?)\b|\s?%|\ss\b)"
_FIGURE = re.compile(rf"(?<![\w.\-/$])(\$)?(\d{{1,3}}(?:[ ,]\d{{3}})+|\d+(?:\.\d+)?)({_UNIT})?(?![\w.]?\d)")
_VERSIONED = re.compile(r"(?:Python|CPython|PostgreSQL|Node\.js|OpenAPI|TLS|HTTP|v|manylinux_\d+_)\s?$")


def figures(text: str) -> set[str]:
    """The figures a page states, normalized ("5,335,176 bytes" and "5 335 176 bytes" are one; "5 s" and "5s")."""
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)|https?://\S+", "", text)  # link targets and URLs are addresses
    found = set()
    for match in _FIGURE.finditer(text):
        money, number, unit = match.groups()
        if _VERSIONED.search(text[max(0, match.start() - 20) : match.start()]):
            continue
        if not (money or unit or "." in number):
            continue
        found.add((money or "") + re.sub(r"[ ,]", "", number) + re.sub(r"\s", "", unit or ""))
    return found


def test_the_readme_is_read_in_ten_minutes():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 400


def test_the_architecture_page_is_drawn_from_the_current_routes_and_settings():
    assert (ROOT / "docs" / "architecture.md").read_text() == diagram.current_page(), "run make diagram"


def test_the_benchmark_page_is_drawn_from_the_accepted_baseline():
    assert (ROOT / "docs" / "benchmarks.md").read_text() == report.page(report.load()), "run make bench-report"


def test_no_figure_appears_on_two_pages():
    pages_of: dict[str, list[str]] = defaultdict(list)
    for page in PAGES:
        for figure in figures(page.read_text()):
            pages_of[figure].append(page.name)
    twice = {figure: names for figure, names in pages_of.items() if len(names) > 1}
    assert twice == {}


def test_a_benchmark_key_is_quoted_with_its_figure_on_the_benchmark_page_only():
    keys = re.compile("|".join(sorted(KEYS, key=len, reverse=True)))
    quoted = []
    for page in PAGES:
        if page.name == "benchmarks.md":
            continue
        for line in page.read_text().splitlines():
            if keys.search(line) and figures(keys.sub("", line)):
                quoted.append(f"{page.name}: {line.strip()}")
    assert quoted == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "5,335,176 bytes; 6 MiB; 1.49; 0.5 ACU; 3 s; $0.40",
            {"5335176bytes", "6MiB", "1.49", "0.5ACU", "3s", "$0.40"},
        ),
        ("Python 3.12, PostgreSQL 16, port 3000, status 404, 10 000 requests, 400s, 3 saved queries", set()),
        ("see [it](https://example.com/a/1.5) or https://x.y/2.0, `limit=1.5` and ```\nsleep 2.5 s\n```", set()),
    ],
)
def test_figures_are_numbers_with_decimals_separators_or_units_and_not_versions(text, expected):
    assert figures(text) == expected


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_leads_to_a_page_and_heading_that_exist():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.name}: {target}")
    assert broken == []
