"""Payments API Lambda: POST /payments, GET /payments/{id}, and the audit/event retry consumer.

Entry points live in ``handler.py`` (``handler``, ``retry_handler``); the archive carries this package and
``lambda_src.common``.
"""
