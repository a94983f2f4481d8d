"""A readable terminal summary: groups with their keeper, members and scores; then skips."""

from __future__ import annotations

from neardup.output.differences import summary, swapped
from neardup.records import ScanResult

MAX_GROUPS = 50
_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {10: "\\n", 13: "\\r", 9: "\\t", 127: "\\x7f"}


def shown(path: str) -> str:
    """A path as one line of the table: a newline or other control character in a file name
    is written as an escape (\\n), so it cannot split a line or move the cursor."""
    return path.translate(_CONTROL)


def count(n: int, noun: str) -> str:
    """`n` and the noun, plural unless one: "1 pair", "3 pairs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(width: int, height: int) -> str:
    return f"{width}x{height}"


def render(result: ScanResult, *, max_groups: int = MAX_GROUPS) -> str:
    lines: list[str] = []
    s = result.stats
    lines.append(
        f"{count(s.images, 'image')}, {count(s.groups, 'duplicate group')}, "
        f"{count(s.pairs, 'pair')} "
        f"at confidence >= {result.settings.get('threshold')}; {s.skipped} skipped"
        + (f", {s.from_cache} from cache" if s.from_cache else "")
        + f" ({s.seconds.get('total', 0):.1f} s)"
    )
    if result.leakage is not None:
        lines += leakage_lines(result)
    by_pair = {(min(p.a, p.b), max(p.a, p.b)): p for p in result.pairs}
    for n, group in enumerate(result.groups[:max_groups], 1):
        keeper = result.images[group.keeper]
        lines.append("")
        lines.append(
            f"group {n}: keep {shown(keeper.label)}  ({_size(keeper.width, keeper.height)})"
        )
        for index, similarity in group.members:
            member = result.images[index]
            link = group.via.get(index)
            through = f"  (matches {shown(result.images[link].label)})" if link is not None else ""
            size = _size(member.width, member.height)
            lines.append(f"  {similarity:6.3f}  {shown(member.label)}  ({size})" + through)
            other = group.via.get(index, group.keeper)
            pair = by_pair.get((min(index, other), max(index, other)))
            if pair is not None and pair.differences is not None:
                told = pair.differences if pair.b == index else swapped(pair.differences)
                text = summary(told, ("the other", "this copy"))
                lines.append(f"          differs: {text}")
    if len(result.groups) > max_groups:
        lines.append(f"\n... {len(result.groups) - max_groups} more groups (see --json / --csv)")
    if result.skipped:
        lines.append("")
        lines.append(f"skipped {len(result.skipped)}:")
        for item in result.skipped[:max_groups]:
            lines.append(f"  {shown(item.path)}: {item.reason}")
        if len(result.skipped) > max_groups:
            lines.append(f"  ... {len(result.skipped) - max_groups} more (see --json)")
    return "\n".join(lines)


def leakage_lines(result: ScanResult) -> list[str]:
    """Per later set: how many of its images have a near-copy in an earlier set, per preset,
    and its files that are the very file of an earlier set's image, named (in no pair)."""
    assert result.leakage is not None
    sets = result.leakage.sets
    lines = ["", f"leakage (reference {sets[0].name}, {sets[0].images} images):"]
    for later in sets[1:]:
        counts = ", ".join(
            f"{preset} {count} ({count / later.images:.1%})" if later.images else f"{preset} 0"
            for preset, count in later.leaking.items()
        )
        same = f"; {later.same_file} the very same file" if later.same_file else ""
        lines.append(
            f"  {later.name}: {later.images} images, with a near-copy earlier: {counts}{same}"
        )
        # In no pair (a file is one image), so named here or nowhere in the table.
        for found in later.same_files[:MAX_GROUPS]:
            earlier = sets[found.earlier].name
            lines.append(
                f"    {shown(found.path)}: the very file of {earlier}'s {shown(found.reference)}"
            )
        if len(later.same_files) > MAX_GROUPS:
            lines.append(f"    ... {len(later.same_files) - MAX_GROUPS} more (see --json)")
    return lines
