"""The DynamoDB tables, defined once: tests build moto tables from here and the SAM
template's test asserts template.yaml matches `cloudformation_properties()`.

Main table (single-table layout):
    PK = EXP#<id>, SK = META | DAY#<date>#<variant> | ALLOC#<iso-time>#<suffix>
    GSI `ByStatus` (sparse: META items only): GSI1PK = STATUS#<status>,
    GSI1SK = <created_at>#<id>, all attributes projected, so listing experiments by
    status (the scheduled recompute) is one paginated Query.
Idempotency table: PK = EXP#<id>, SK = KEY#<idempotency key>, expired by TTL on
    `expires_at` (epoch seconds); records are also ignored once expired.
Both tables bill on demand.
"""

from __future__ import annotations

from typing import Any

PK = "PK"
SK = "SK"
GSI1PK = "GSI1PK"
GSI1SK = "GSI1SK"
STATUS_INDEX = "ByStatus"
TTL_ATTRIBUTE = "expires_at"
BILLING_MODE = "PAY_PER_REQUEST"


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


def _attributes(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def _main_definition() -> dict[str, Any]:
    return {
        "AttributeDefinitions": _attributes(PK, SK, GSI1PK, GSI1SK),
        "KeySchema": _key_schema(PK, SK),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": _key_schema(GSI1PK, GSI1SK),
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": BILLING_MODE,
    }


def _idempotency_definition() -> dict[str, Any]:
    return {
        "AttributeDefinitions": _attributes(PK, SK),
        "KeySchema": _key_schema(PK, SK),
        "BillingMode": BILLING_MODE,
    }


_TTL = {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}  # idempotency records expire


def create_table_kwargs(table: str, idempotency_table: str) -> list[dict[str, Any]]:
    """Arguments for `client.create_table(**kwargs)`, main table first."""
    return [
        {"TableName": table, **_main_definition()},
        {"TableName": idempotency_table, **_idempotency_definition()},
    ]


def update_ttl_kwargs(idempotency_table: str) -> dict[str, Any]:
    """Arguments for `client.update_time_to_live(**kwargs)` (create_table cannot set TTL)."""
    return {"TableName": idempotency_table, "TimeToLiveSpecification": _TTL}


def cloudformation_properties() -> dict[str, dict[str, Any]]:
    """`Properties` of the two AWS::DynamoDB::Table resources, keyed "table" and
    "idempotency_table". TableName is left to the template (names are per stack)."""
    return {
        "table": {
            **_main_definition(),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
        "idempotency_table": {
            **_idempotency_definition(),
            "TimeToLiveSpecification": _TTL,
        },
    }
