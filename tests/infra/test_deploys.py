"""What a real deployment does that `sam validate` cannot see, checked on the offline SAM
transform: two stacks share no physical name, and the Rules refuse parameter sets that would
deploy something other than what they say (what a deploy publishes: test_versions.py)."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
Template = dict[str, Any]
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:banditkit-db-AbCdEf"


# Resource types whose name is unique in an account and region, and the property naming them.
NAMED = {
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGateway::UsagePlan": "UsagePlanName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SecretsManager::Secret": "Name",
}
# Types named inside their parent (an alias within its function), or not named at all.
UNNAMED = {
    "AWS::ApiGateway::Deployment",
    "AWS::CloudFormation::CustomResource",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
}
PARAMETER_SETS: list[dict[str, str]] = [
    {"Stage": "dev", "AdminKey": "k" * 20, "AlarmEmail": "ops@example.com"},
    {"Stage": "prod"},
    {
        "Stage": "prod",
        "StoreBackend": "postgres",
        "DatabaseSecretArn": SECRET,
        "DatabaseHost": "db.example.internal",
        "VpcSubnetIds": "subnet-1,subnet-2",
        "VpcSecurityGroupIds": "sg-1",
        "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops",
    },
]


def physical_names(
    evaluator: Any, transformed: Template, parameters: Mapping[str, str], stack: str, region: str
) -> dict[str, tuple[str, str]]:
    """resource -> (type, the name it would have in `stack`), for resources that name
    themselves (names are unique per type)."""
    pseudo = {"AWS::StackName": stack, "AWS::Region": region}
    out = {}
    for logical, res in evaluator(transformed, parameters).resources().items():
        kind = res["Type"]
        assert kind in NAMED or kind in UNNAMED, f"{logical}: decide whether {kind} is named"
        value = res.get("Properties", {}).get(NAMED.get(kind, ""))
        if value is None:
            continue  # CloudFormation generates a unique name
        if isinstance(value, dict):
            ((fn, arg),) = value.items()
            assert fn == "Fn::Sub", (logical, value)
            assert isinstance(arg, str), (logical, value)
            for name, replacement in pseudo.items():
                arg = arg.replace("${" + name + "}", replacement)
            assert "${" not in arg, (logical, arg)
            value = arg
        out[logical] = (kind, value)
    return out


@pytest.mark.parametrize("parameters", PARAMETER_SETS, ids=["dev", "prod", "postgres"])
def test_two_stacks_in_one_account_and_region_share_no_physical_name(
    evaluator: Any, transformed: Template, parameters: dict[str, str]
) -> None:
    first = physical_names(evaluator, transformed, parameters, "banditkit-dev", "eu-west-1")
    second = physical_names(evaluator, transformed, parameters, "banditkit-prod", "eu-west-1")
    assert "RecomputeFunctionSchedule" in first  # the name that collided
    clashes = {
        name: (a, b) for a, name in first.items() for b, other in second.items() if name == other
    }
    assert clashes == {}
    assert len(set(first.values())) == len(first)  # nor inside one stack


# ---------------------------------------------------------------------------- rules


def refusals(template: Template, parameters: Mapping[str, str]) -> list[str]:
    """The AssertDescription of every Rule assertion this parameter set fails (as
    CloudFormation evaluates Rules before creating a change set)."""
    evaluator = RULES_EVALUATOR(template, parameters)
    failed = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluator.truth(rule["RuleCondition"]):
            continue
        for assertion in rule["Assertions"]:
            if not evaluator.truth(assertion["Assert"]):
                failed.append(assertion["AssertDescription"])
    return failed


RULES_EVALUATOR: Any = None


@pytest.fixture(autouse=True)
def _rules_evaluator(evaluator: Any) -> None:
    global RULES_EVALUATOR
    RULES_EVALUATOR = evaluator


POSTGRES = {"StoreBackend": "postgres", "DatabaseSecretArn": SECRET}
REFUSED = {
    "subnets without security groups": POSTGRES | {"VpcSubnetIds": "subnet-1"},
    "security groups without subnets": POSTGRES | {"VpcSecurityGroupIds": "sg-1"},
    "postgres without a secret": {"StoreBackend": "postgres"},
    "a secret on dynamodb": {"DatabaseSecretArn": SECRET},
    "a database host on dynamodb": {"DatabaseHost": "db.example.internal"},
    "subnets on dynamodb": {"VpcSubnetIds": "subnet-1", "VpcSecurityGroupIds": "sg-1"},
    "an admin key in prod": {"Stage": "prod", "AdminKey": "k" * 20},
    "an email with a given topic": {
        "AlarmEmail": "ops@example.com",
        "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops",
    },
}
ACCEPTED = {
    "defaults": {},
    "dev with an admin key": {"Stage": "dev", "AdminKey": "k" * 20},
    "postgres with a host": POSTGRES | {"DatabaseHost": "db.example.internal"},
    "postgres in a vpc": POSTGRES
    | {"VpcSubnetIds": "subnet-1,subnet-2", "VpcSecurityGroupIds": "sg-1,sg-2"},
    "an email for the stack's topic": {"AlarmEmail": "ops@example.com"},
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_rules_refuse_parameters_that_only_mean_something_together(
    template: Template, case: str
) -> None:
    assert refusals(template, REFUSED[case]), case


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_rules_accept_consistent_parameters(template: Template, case: str) -> None:
    assert refusals(template, ACCEPTED[case]) == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_rules_accept_the_samconfig_environments(template: Template, env: str) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[env]
    overrides = shlex.split(config["deploy"]["parameters"]["parameter_overrides"])
    assert refusals(template, dict(pair.split("=", 1) for pair in overrides)) == []


def test_without_the_vpc_rules_subnets_alone_would_deploy_an_empty_security_group(
    template: Template, transformed: Template
) -> None:
    """What the Rules prevent: the function's VpcConfig with SecurityGroupIds [""]."""
    parameters = POSTGRES | {"VpcSubnetIds": "subnet-1"}
    props = RULES_EVALUATOR(transformed, parameters).resources()["EventsFunction"]["Properties"]
    assert props["VpcConfig"]["SecurityGroupIds"] == [""]
    assert "VpcSecurityGroupIds need VpcSubnetIds." not in refusals(template, parameters)
    assert "VpcSubnetIds need VpcSecurityGroupIds." in refusals(template, parameters)
