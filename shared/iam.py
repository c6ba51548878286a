"""IAM policy documents as plain JSON strings (tokens inside are resolved by cdktf)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def statement(
    effect: str,
    actions: Sequence[str],
    resources: Sequence[str] | None = None,
    *,
    sid: str | None = None,
    principals: dict[str, Any] | None = None,
    conditions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"Effect": effect, "Action": list(actions)}
    if sid:
        doc["Sid"] = sid
    if principals is not None:
        doc["Principal"] = principals
    if resources is not None:
        doc["Resource"] = list(resources)
    if conditions:
        doc["Condition"] = conditions
    return doc


def allow(actions: Sequence[str], resources: Sequence[str], **kwargs: Any) -> dict[str, Any]:
    return statement("Allow", actions, resources, **kwargs)


def deny(actions: Sequence[str], resources: Sequence[str], **kwargs: Any) -> dict[str, Any]:
    return statement("Deny", actions, resources, **kwargs)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str, *, source_account: str, source_arn: str | Sequence[str] | None = None) -> str:
    """A service's trust, limited to requests made for our account (and our resources, where the service
    sends `aws:SourceArn`; any of several): the confused-deputy guard."""
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": source_account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn if isinstance(source_arn, str) else list(source_arn)}
    return document(statement("Allow", ["sts:AssumeRole"], principals={"Service": service}, conditions=conditions))
