"""API Gateway events for tests and the load benchmark that call handlers in-process: the shape lives in ops."""

from __future__ import annotations

from ops.client.api_events import api_event

__all__ = ["api_event"]
