"""A readable terminal summary: groups with their keeper, members and scores; then skips."""

from __future__ import annotations

from neardup.records import ScanResult

MAX_GROUPS = 50


def _size(width: int, height: int) -> str:
    return f"{width}x{height}"


def render(result: ScanResult, *, max_groups: int = MAX_GROUPS) -> str:
    lines: list[str] = []
    s = result.stats
    lines.append(
        f"{s.images} images, {s.groups} duplicate groups, {s.pairs} pairs "
        f"at confidence >= {result.settings.get('threshold')}; {s.skipped} skipped"
        + (f", {s.from_cache} from cache" if s.from_cache else "")
        + f" ({s.seconds.get('total', 0):.1f} s)"
    )
    for n, group in enumerate(result.groups[:max_groups], 1):
        keeper = result.images[group.keeper]
        lines.append("")
        lines.append(f"group {n}: keep {keeper.label}  ({_size(keeper.width, keeper.height)})")
        for index, similarity in group.members:
            member = result.images[index]
            link = group.via.get(index)
            through = f"  (matches {result.images[link].label})" if link is not None else ""
            lines.append(
                f"  {similarity:6.3f}  {member.label}  ({_size(member.width, member.height)})"
                + through
            )
    if len(result.groups) > max_groups:
        lines.append(f"\n... {len(result.groups) - max_groups} more groups (see --json / --csv)")
    if result.skipped:
        lines.append("")
        lines.append(f"skipped {len(result.skipped)}:")
        for item in result.skipped[:max_groups]:
            lines.append(f"  {item.path}: {item.reason}")
        if len(result.skipped) > max_groups:
            lines.append(f"  ... {len(result.skipped) - max_groups} more (see --json)")
    return "\n".join(lines)
