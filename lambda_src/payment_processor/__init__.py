"""Payments API Lambda: POST /payments, GET /payments/{id}, and the audit/event retry consumer.

Entry points live in ``handler.py`` (``handler``, ``retry_handler``). The directory is self-contained:
only the standard library and boto3 are imported, and every internal import is relative, so it works
both zipped as-is (handler ``handler.handler``) and as the package ``payment_processor``.
"""
