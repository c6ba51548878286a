"""DynamoDB access to the payments table (hash key ``payment_id``) and its customer index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from . import clients
from .config import ConfigError, get_settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class AlreadyExists(Exception):
    """A payment with this id was written before (same Idempotency-Key)."""


def _to_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def _from_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _key(payment_id: str) -> dict[str, Any]:
    return {"payment_id": {"S": payment_id}}


def insert(item: Mapping[str, Any]) -> None:
    """Write a new payment exactly once; raise AlreadyExists if the id is taken."""
    try:
        clients.dynamodb().put_item(
            TableName=get_settings().table_name,
            Item=_to_dynamo(item),
            ConditionExpression="attribute_not_exists(payment_id)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise AlreadyExists(item["payment_id"]) from None
        raise


def get(payment_id: str) -> dict[str, Any] | None:
    """Strongly consistent read (read-after-write within the region)."""
    response = clients.dynamodb().get_item(
        TableName=get_settings().table_name, Key=_key(payment_id), ConsistentRead=True
    )
    item = response.get("Item")
    return _from_dynamo(item) if item else None


def set_fields(payment_id: str, fields: Mapping[str, str]) -> None:
    """Set string attributes (the audit/event step statuses) on an existing payment."""
    names = {f"#f{index}": name for index, name in enumerate(fields)}
    values = {f":v{index}": {"S": value} for index, value in enumerate(fields.values())}
    clients.dynamodb().update_item(
        TableName=get_settings().table_name,
        Key=_key(payment_id),
        UpdateExpression="SET " + ", ".join(f"#f{index} = :v{index}" for index in range(len(fields))),
        ConditionExpression="attribute_exists(payment_id)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def by_customer(
    customer_id: str, limit: int, start_after: Mapping[str, str] | None
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """One page of a customer's payments, newest first, and where it ended (None on the last page)."""
    settings = get_settings()
    if not settings.customer_index:
        raise ConfigError("CUSTOMER_INDEX is not set (required by GET /payments)")
    request: dict[str, Any] = {
        "TableName": settings.table_name,
        "IndexName": settings.customer_index,
        "KeyConditionExpression": "customer_id = :customer",
        "ExpressionAttributeValues": {":customer": {"S": customer_id}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_after is not None:
        request["ExclusiveStartKey"] = {name: {"S": value} for name, value in start_after.items()}
    response = clients.dynamodb().query(**request)
    last = response.get("LastEvaluatedKey")
    position = {name: str(value["S"]) for name, value in last.items()} if last else None
    return [_from_dynamo(item) for item in response.get("Items", [])], position
