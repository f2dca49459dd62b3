"""The digest's sentences about inputs, and the digest as plain text: shared by the
Markdown and HTML renderers and the JSON's `text`, so they all say the same thing."""

from __future__ import annotations

from typing import Any

from northstar.digest.restatements import restatement_sentence

ADVERB = {"day": "daily", "week": "weekly", "month": "monthly"}


def typical_move(entry: dict[str, Any], grain: str) -> str:
    """ ", 3.2x its typical weekly move" - or nothing without a typical move to compare."""
    ratio = entry.get("move_ratio")
    period = ADVERB.get(grain, f"per-{grain}")
    return "" if ratio is None else f", {ratio:.1f}x its typical {period} move"


def mover_sentence(digest: dict[str, Any]) -> str | None:
    """ "The input that moved most: New teams, 10 to 6 (-40.0%, 2.0x its typical weekly
    move), against the North Star's move." """
    mover = digest["top_mover"]
    if mover is None:
        return None
    d = mover["display"]
    side = {
        "with": ", with the North Star's move",
        "against": ", against the North Star's move",
    }.get(mover.get("alignment") or "", "")
    return (
        f"The input that moved most: {mover['label']}, {d['previous_value']} to {d['value']} "
        f"({d['change']}{typical_move(mover, digest['grain'])}){side}."
    )


def alignment_sentence(digest: dict[str, Any]) -> str | None:
    """ "Inputs with the North Star's move: A, B; against it: C." """
    groups = {
        side: [m["label"] for m in digest["inputs"] if m.get("alignment") == side]
        for side in ("with", "against")
    }
    if not groups["with"] and not groups["against"]:
        return None
    parts = []
    if groups["with"]:
        parts.append(f"inputs that moved with the North Star: {', '.join(groups['with'])}")
    if groups["against"]:
        parts.append(f"against it: {', '.join(groups['against'])}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def summary_text(digest: dict[str, Any]) -> str:
    """The digest in a few plain lines (no markup), for a chat message or a log."""
    lines = [digest["headline"]]
    for sentence in (mover_sentence(digest), alignment_sentence(digest)):
        if sentence:
            lines.append(sentence)
    lines.append("Guardrails: " + digest["guardrail_summary"])
    if digest["guardrail_alarm"]:
        lines.append(digest["guardrail_alarm"])
    lines += [restatement_sentence(entry) for entry in digest.get("restatements") or []]
    verdict = digest.get("leading")
    if verdict is not None and verdict["warning"]:
        lines.append(verdict["warning"])
    return "\n".join(lines)
