"""The payments API's logger (JSON lines with the invocation's fields, see ``common.logging_setup``).

Callers never pass request bodies, card data or secrets; payment methods are logged masked.
"""

from __future__ import annotations

import logging

from ..common import logging_setup as _shared
from ..common.logging_setup import bind, log_context

__all__ = ["bind", "get_logger", "log_context", "mask_payment_method"]
LOGGER_NAME = "payments"


def get_logger() -> logging.Logger:
    return _shared.get_logger(LOGGER_NAME)


def mask_payment_method(value: object) -> str:
    """Payment methods are logged only as their id prefix (``pm_``), never the full id."""
    if isinstance(value, str) and value.startswith("pm_"):
        return "pm_"
    return "invalid"
