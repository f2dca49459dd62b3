"""`northstar serve`: a read-only HTTP JSON API over the current snapshot (docs/serve.md)."""

from northstar.serve.app import create_app

__all__ = ["create_app"]
