"""Query-string parameters: only the documented ones, each at most once.

An unknown or repeated parameter is a 400 naming it, never ignored: `?segmnet=plan`
silently serving the total would look like an answer. The values themselves are checked
by the readers behind the CLI (northstar.query), against what the snapshot holds.
"""

from __future__ import annotations

from starlette.requests import Request

from northstar.errors import InvalidInputError
from northstar.query.catalog import shown

FLAGS = {"true": True, "1": True, "false": False, "0": False}


def read_params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no parameters"
            raise InvalidInputError(
                f"unknown parameter {shown(key)} for {request.url.path}: it takes {takes}"
            )
        if key in seen:
            raise InvalidInputError(f"parameter {key!r} given more than once")
        seen[key] = value
    return seen


def flag(params: dict[str, str], key: str) -> bool:
    value = params.get(key, "false")
    if value.lower() not in FLAGS:
        raise InvalidInputError(f"{key}: {shown(value)} is not true or false")
    return FLAGS[value.lower()]
