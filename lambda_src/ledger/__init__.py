"""The ledger of record in PostgreSQL (Aurora on aws, local PostgreSQL 15 on the local target).

Modules: ``migrations/`` (versioned SQL templates), ``migrate`` (applies them under an advisory lock),
``config`` (the environment contract), ``connection`` (writer discovery, IAM token, TLS, one connection
per container), ``record`` (a payment and its balanced entries, idempotently), ``admin`` (migrate /
summary / status, for ops in-process; ``admin.handler`` is the ``ledger-admin`` function's entry point).
"""
