"""Postgres as a publish target: a verified local snapshot, loaded with COPY into a
versioned schema, then made the one BI tools read in a single transaction.

    connection.py  where to connect (NORTHSTAR_PG_DSN, PG* variables or a dbt profile
                   target), with the password kept out of every message
    load.py        a snapshot's tables -> `<read schema>_v_<run id>`, in one transaction
    versions.py    the read schema's views, the switch, retention, rollback, the reader role
    push.py        the whole push, under an advisory lock, with a hook between steps

Design and the reasons for it: docs/postgres.md.
"""
