"""The weekly digest: the latest complete period (or any past one) as Markdown, JSON and HTML.

`build_digest()` computes the content once from the snapshot; the renderers only format
it, so the three files always agree. Output is deterministic: same snapshot, same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from northstar.digest.html import render_html
from northstar.digest.markdown import render_markdown
from northstar.digest.model import build_digest


def render_json(digest: dict[str, Any]) -> str:
    return json.dumps(digest, indent=2, sort_keys=True, allow_nan=False) + "\n"


RENDERERS = {"md": render_markdown, "json": render_json, "html": render_html}


def owner_slug(owner: str) -> str:
    """A file-name part for an owner: letters, digits, '-' and '_' only, with a short hash
    when anything had to be replaced (two owners never share a file)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", owner).strip("-")[:40] or "owner"
    if slug != owner:
        slug += "-" + hashlib.sha256(owner.encode()).hexdigest()[:8]
    return slug


def file_stem(digest: dict[str, Any]) -> str:
    # Built from the grain, an ISO date and a sanitised owner: nothing from the data can
    # steer the path.
    stem = f"northstar-digest-{digest['grain']}-{digest['period']['period_start']}"
    return stem + (f"-{owner_slug(digest['owner'])}" if digest.get("owner") else "")


def write_digest(digest: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write <stem>.md, .json and .html into `out_dir` (each via a temp file + rename, so
    a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for extension, render in RENDERERS.items():
        path = out_dir / f"{file_stem(digest)}.{extension}"
        temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        temp.write_text(render(digest), encoding="utf-8")
        os.replace(temp, path)
        written.append(path)
    return written


__all__ = ["build_digest", "render_html", "render_json", "render_markdown", "write_digest"]
