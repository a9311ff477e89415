"""axe-core's WCAG 2.2 AA rules, run in the page by Playwright.

axe.min.js comes from the axe-playwright-python wheel, pinned with its hash in
requirements-dev.txt, so every machine runs the same axe-core release.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

# Levels A and AA of WCAG 2.0, 2.1 and 2.2 (axe-core's tags for them).
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def violations(page) -> list[dict]:
    options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
    return _axe.run(page, options=options).response["violations"]


def report(found: list[dict]) -> str:
    """One line per rule and one per element, enough to find and fix each."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
            lines.append(f"        {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page, where: str) -> None:
    found = violations(page)
    assert not found, f"axe-core found WCAG 2.2 AA violations on {where}:\n{report(found)}"
