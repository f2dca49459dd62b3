"""Publishing: atomic, versioned snapshots of the public tables for BI tools.

`publish()` validates the warehouse and writes a new snapshot; `rollback()` switches the
current pointer back; `reader.resolve()`/`reader.connect()` open the current snapshot.
See store.py for the layout and why the switch is atomic; postgres/ loads a published
snapshot into Postgres for BI tools (docs/postgres.md).
"""
