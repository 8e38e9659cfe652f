"""The deployed tables are the tables the store is tested on: template.yaml's two tables
hold every property of banditkit.store.dynamodb_tables (which also builds the moto tables),
plus what only a real deployment needs: encryption, recovery, Retain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from banditkit.store import dynamodb_tables

pytestmark = pytest.mark.infra

Template = dict[str, Any]
Deployed = Callable[..., dict[str, dict[str, Any]]]
RESOURCES = {"table": "DataTable", "idempotency_table": "IdempotencyTable"}


def unordered(props: dict[str, Any]) -> dict[str, Any]:
    """AttributeDefinitions is a set in CloudFormation: compare it as one."""
    out = dict(props)
    if "AttributeDefinitions" in out:
        out["AttributeDefinitions"] = sorted(
            (a["AttributeName"], a["AttributeType"]) for a in out["AttributeDefinitions"]
        )
    return out


@pytest.mark.parametrize("key", sorted(RESOURCES))
def test_template_table_holds_the_store_definition(key: str, template: Template) -> None:
    expected = unordered(dynamodb_tables.cloudformation_properties()[key])
    actual = unordered(template["Resources"][RESOURCES[key]]["Properties"])
    assert {name: actual.get(name) for name in expected} == expected
    assert "TableName" not in actual  # per-stack names, passed to the functions by URL


@pytest.mark.parametrize("resource", sorted(RESOURCES.values()))
def test_tables_are_on_demand_encrypted_recoverable_and_retained(
    resource: str, template: Template
) -> None:
    table = template["Resources"][resource]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Condition"] == "UseDynamoDb"


def test_idempotency_records_expire_by_ttl(template: Template) -> None:
    props = template["Resources"]["IdempotencyTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": dynamodb_tables.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_moto_tables_match_the_template_keys(template: Template) -> None:
    """The create_table arguments the tests use describe the same keys and indexes."""
    specs = dynamodb_tables.create_table_kwargs(table="t", idempotency_table="i")
    for spec, resource in zip(specs, ("DataTable", "IdempotencyTable"), strict=True):
        props = template["Resources"][resource]["Properties"]
        assert spec["KeySchema"] == props["KeySchema"]
        assert spec.get("GlobalSecondaryIndexes") == props.get("GlobalSecondaryIndexes")
        assert unordered(spec)["AttributeDefinitions"] == unordered(props)["AttributeDefinitions"]
