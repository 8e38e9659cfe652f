"""Least privilege: each function's role holds only what its job needs (docs/architecture.md),
every grant names this stack's ARNs, and nothing writes to `*`.

Read off the transformed template for the parameter sets that change permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.infra

Deployed = Callable[..., dict[str, dict[str, Any]]]
Resources = dict[str, dict[str, Any]]
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:banditkit-dsn-AbCdEf"
AWS_MANAGED = "arn:${AWS::Partition}:iam::aws:policy/"
XRAY = AWS_MANAGED + "AWSXrayWriteOnlyAccess"
VPC = AWS_MANAGED + "service-role/AWSLambdaVPCAccessExecutionRole"
TABLES = [{"Fn::GetAtt": ["DataTable", "Arn"]}, {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]

READ = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"}
WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
DELETE = {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
SCAN = {"dynamodb:Scan"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# What each job needs of the tables (docs/architecture.md): history only reads; only the experiments
# function deletes (an experiment with its data); only the dev-only reset scans.
EXPECTED = {
    "Experiments": READ | WRITE | DELETE,
    "Events": READ | WRITE,
    "Allocation": READ | WRITE,
    "History": READ,
    "Recompute": READ | WRITE,
    "RecomputeWorker": READ | WRITE,
    "Admin": READ | DELETE | SCAN,
}
# The recompute fan-out: the planner only sends to its queue, the worker only drains it.
QUEUE = {
    "Recompute": {"sqs:SendMessage"},
    "RecomputeWorker": {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    },
}
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query", "BatchGet", "Scan")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(resources: Resources, role: str) -> Iterator[dict[str, Any]]:
    """Every statement reaching `role`: inline policies and this stack's managed policies."""
    props = resources[role]["Properties"]
    for policy in props.get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            yield from resources[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]


def aws_managed(resources: Resources, role: str) -> set[str]:
    arns = resources[role]["Properties"].get("ManagedPolicyArns", [])
    return {a["Fn::Sub"] for a in arns if isinstance(a, dict) and "Fn::Sub" in a}


def actions(resources: Resources, role: str) -> set[str]:
    return {
        action
        for statement in role_statements(resources, role)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_gets_only_its_table_access(function: str, deployed: Deployed) -> None:
    resources = deployed(Stage="dev", StoreBackend="dynamodb")
    role = resources[f"{function}Function"]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role == f"{function}Role"  # one role per function
    assert actions(resources, role) == EXPECTED[function] | LOGS | QUEUE.get(function, set())


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_postgres_functions_read_only_their_secret(function: str, deployed: Deployed) -> None:
    resources = deployed(Stage="dev", StoreBackend="postgres", DatabaseSecretArn=SECRET)
    statements = list(role_statements(resources, f"{function}Role"))
    assert {a for s in statements for a in as_list(s["Action"])} == {
        "secretsmanager:GetSecretValue"
    } | LOGS | QUEUE.get(function, set())
    (secret,) = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secret["Resource"] == {"Fn::Sub": "${DatabaseSecretArn}"}


def test_queue_access_names_only_the_recompute_queue(deployed: Deployed) -> None:
    resources = deployed(Stage="dev")
    for function in QUEUE:
        granted = [s for s in role_statements(resources, f"{function}Role") if "sqs:" in str(s)]
        assert [s["Resource"] for s in granted] == [{"Fn::GetAtt": ["RecomputeQueue", "Arn"]}]


def test_logs_go_only_to_the_functions_own_log_group(deployed: Deployed) -> None:
    resources = deployed(Stage="dev")
    for function in EXPECTED:
        props = resources[f"{function}Function"]["Properties"]
        assert props["LoggingConfig"] == {"LogGroup": {"Ref": f"{function}LogGroup"}}
        logs = [s for s in role_statements(resources, f"{function}Role") if "logs:" in str(s)]
        assert logs == [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": {"Fn::GetAtt": [f"{function}LogGroup", "Arn"]},
            }
        ]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"TracingMode": "Active"}, {XRAY}),
        ({"TracingMode": "PassThrough"}, set()),
        (
            {
                "TracingMode": "PassThrough",
                "StoreBackend": "postgres",
                "DatabaseSecretArn": SECRET,
                "VpcSubnetIds": "subnet-1",
                "VpcSecurityGroupIds": "sg-1",
            },
            {VPC},
        ),
    ],
)
def test_aws_managed_policies_only_when_their_feature_is_on(
    parameters: dict[str, str], expected: set[str], deployed: Deployed
) -> None:
    """X-Ray and ENI actions take no resource ARNs, so they come as AWS's managed policies,
    attached only with tracing on or inside a VPC. No AWSLambdaBasicExecutionRole (any log
    group) and nothing else."""
    resources = deployed(**parameters)
    for function in (
        "Experiments",
        "Events",
        "Allocation",
        "History",
        "Recompute",
        "RecomputeWorker",
    ):
        assert aws_managed(resources, f"{function}Role") == expected


@pytest.mark.parametrize(
    "parameters",
    [
        {"Stage": "dev"},
        {"Stage": "prod"},
        {"StoreBackend": "postgres", "DatabaseSecretArn": SECRET},
    ],
)
def test_no_wildcards_and_every_resource_is_this_stacks(
    parameters: dict[str, str], deployed: Deployed
) -> None:
    resources = deployed(**parameters)
    roles = [name for name, res in resources.items() if res["Type"] == "AWS::IAM::Role"]
    # seven functions (six in prod), the scheduler, the dashboard reader and the digest of
    # the API functions' configuration (test_versions.py)
    assert len(roles) == (9 if parameters.get("Stage") == "prod" else 10)
    for role in roles:
        for statement in role_statements(resources, role):
            assert statement["Effect"] == "Allow", (role, statement)
            for action in as_list(statement["Action"]):
                verb = action.partition(":")[2]
                assert "*" not in verb, (role, action)
            for resource in as_list(statement["Resource"]):
                # Every resource is an intrinsic naming one of this stack's resources or
                # the secret parameter: never a literal, never "*".
                assert isinstance(resource, dict), (role, statement)
                assert "*" not in str(resource).replace("/index/*", "").replace("}/*", "}"), (
                    role,
                    resource,
                )


def test_table_grants_name_both_tables_and_index_reads_only(deployed: Deployed) -> None:
    resources = deployed(Stage="dev")
    for policy in ("DataReadPolicy", "DataWritePolicy", "DataDeletePolicy", "DataScanPolicy"):
        (statement,) = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        targets = as_list(statement["Resource"])
        assert [t for t in targets if t in TABLES] == TABLES, policy
        index = {"Fn::Sub": "${DataTable.Arn}/index/*"}
        assert (index in targets) == (policy == "DataReadPolicy"), policy
        verbs = {a.split(":")[1] for a in as_list(statement["Action"])}
        if policy == "DataReadPolicy":
            assert all(v.startswith(READ_ONLY_PREFIXES) for v in verbs)


def test_scheduler_may_invoke_only_the_recompute_function(deployed: Deployed) -> None:
    resources = deployed()
    (schedule_role,) = [
        r for n, r in resources.items() if r["Type"] == "AWS::IAM::Role" and "Schedule" in n
    ]
    statements = [
        s for p in schedule_role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": ["RecomputeFunction", "Arn"]},
        }
    ]
