"""docs/permissions.md shows the real GRANTS table: every capability, every role."""

from pathlib import Path

from chorus.accounts.roles import GRANTS, Capability, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def documented_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("`") and len(cells) == 2 + len(Role):
            rows[cells[0].strip("`")] = cells[2:]
    return rows


def test_header_lists_the_roles_in_order():
    header = next(line for line in DOC.read_text().splitlines() if line.startswith("| capability"))
    assert [c.strip() for c in header.strip("|").split("|")][2:] == [r.value for r in Role]


def test_every_capability_is_documented_with_its_roles():
    rows = documented_rows()
    assert set(rows) == set(Capability.values)
    for capability in Capability:
        expected = ["✓" if role in GRANTS[capability] else "—" for role in Role]
        assert rows[capability.value] == expected, capability
