"""Payments API Lambda: POST /payments, GET /payments/{id}, and the ledger/audit/event retry consumer.

Entry points live in ``handler.py`` (``handler``, ``retry_handler``); the archive carries this package,
``lambda_src.common``, ``lambda_src.ledger`` and the PostgreSQL driver (pg8000 and its dependencies).
"""
