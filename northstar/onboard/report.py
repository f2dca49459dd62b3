"""What `northstar init` prints: the columns and their proposed roles, the events, the dates,
the candidate entities, and what to check."""

from __future__ import annotations

from northstar.onboard.profile import Profile
from northstar.onboard.proposal import Proposal

TOP_EVENTS = 15


def _role_of(profile: Profile, name: str) -> str:
    roles = profile.roles
    if name == roles.get("event_id"):
        return "event_id"
    if name == roles["occurred_at"]["column"]:
        digits = roles["occurred_at"]["digits"]
        return "occurred_at" + {8: " (YYYYMMDD)", 10: " (epoch s)", 13: " (epoch ms)"}.get(
            digits, ""
        )
    if name == roles.get("event_name"):
        return "event_name"
    if name == roles.get("entity_column"):
        return f"{roles['entity']}_id (the entity)"
    if name == roles.get("other_entity_column"):
        return "user_id" if roles["entity"] == "account" else "account_id"
    for key in ("received_at", "platform", "country"):
        if name == roles.get(key):
            return key
    if name in roles.get("properties", {}):
        return f"property ({roles['properties'][name]})"
    if name == roles.get("properties_column"):
        return "properties"
    return "-"


def report_text(profile: Profile, proposal: Proposal) -> str:
    roles = profile.roles
    lines = [
        f"{profile.source}: {profile.rows:,} rows profiled"
        + (f" ({profile.format})" if profile.format else " (warehouse table)"),
        "",
        f"{'column':<24} {'type':<14} {'distinct':>9}  {'proposed role':<28} examples",
    ]
    for column in profile.columns:
        lines.append(
            f"{column.name[:24]:<24} {column.type[:14]:<14} {column.distinct:>9,}  "
            f"{_role_of(profile, column.name):<28} {', '.join(e[:20] for e in column.examples)}"
        )
    if roles.get("event_id") is None:
        lines.append(
            "no event id column: ids are derived from each row (exact duplicate rows then "
            "count as duplicates)"
        )
    if roles.get("event_name") is None:
        name = profile.event_counts[0][0]
        lines.append(f"no event name column: every row is the event `{name}`")
    lines += ["", f"events ({len(profile.event_counts)} names):"]
    for name, count in profile.event_counts[:TOP_EVENTS]:
        lines.append(f"  {name:<40} {count:>10,}")
    if len(profile.event_counts) > TOP_EVENTS:
        lines.append(f"  ... and {len(profile.event_counts) - TOP_EVENTS} more")
    lines += [
        "",
        f"dates: {profile.first_day} to {profile.last_moment}",
        "entities: "
        + ", ".join(
            f"{name} ({distinct:,} distinct)" for name, distinct in roles["entity_candidates"]
        ),
        "",
        "check:",
        *(f"  - {note}" for note in proposal.notes),
    ]
    return "\n".join(lines)
