"""template.yaml: valid for SAM and cfn-lint, and shaped as docs/architecture.md and
docs/operations.md describe (read off the template and off its offline SAM transform, for
several parameter sets)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ALL_FUNCTIONS = [
    "Experiments",
    "Events",
    "Allocation",
    "History",
    "Admin",
    "Recompute",
    "RecomputeWorker",
]
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:banditkit-dsn-AbCdEf"
Template = dict[str, Any]
Deployed = Callable[..., dict[str, dict[str, Any]]]
Transform = Callable[..., Template]

pytestmark = pytest.mark.infra


def test_sam_validate_lint_passes(sam_cli: Any) -> None:
    result = subprocess.run(
        [str(sam_cli.path), "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT,
        env=sam_cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_cfn_lint_passes_with_informational_checks(sam_cli: Any) -> None:
    result = subprocess.run(
        [str(sam_cli.cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)],
        cwd=ROOT,
        env=sam_cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_globals_target_python313_with_powertools_settings(template: Template) -> None:
    fn = template["Globals"]["Function"]
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == [{"Ref": "Arch"}]
    assert template["Parameters"]["Arch"]["Default"] == "arm64"
    assert fn["Tracing"] == {"Ref": "TracingMode"}
    env = fn["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "banditkit"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "banditkit"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert env["OPENBLAS_NUM_THREADS"] == "1"


def test_every_function_has_fitted_memory_and_timeout(deployed: Deployed) -> None:
    functions = {
        name: res["Properties"]
        for name, res in deployed(Stage="dev").items()
        if res["Type"] == "AWS::Lambda::Function"
    }
    # the custom resource's inline handler runs at deploy time only (test_versions.py)
    assert functions.pop("ConfigDigestFunction")["Handler"] == "index.handler"
    assert sorted(functions) == sorted(f"{f}Function" for f in ALL_FUNCTIONS)
    for name, props in functions.items():
        assert 128 <= props["MemorySize"] <= 3008, name
        limit = {"RecomputeFunction": 300, "RecomputeWorkerFunction": 60}.get(name, 29)
        assert props["Timeout"] <= limit, name
        assert props["Handler"] == "app.handler"
        folder = re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Function")).lower()
        assert props["Code"]["S3Key"] == f"functions/{folder}"
    # The numpy-heavy jobs get more memory (hence CPU) than the CRUD ones.
    assert (
        functions["AllocationFunction"]["MemorySize"] > functions["HistoryFunction"]["MemorySize"]
    )


def test_layer_is_built_by_sam_for_python313_and_used_by_every_function(
    template: Template, deployed: Deployed
) -> None:
    layer = template["Resources"]["BanditkitLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/banditkit"
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": {"Ref": "Arch"}}
    for backend, expected in (("dynamodb", 1), ("postgres", 2)):
        resources = deployed(StoreBackend=backend, DatabaseSecretArn=SECRET)
        for f in ALL_FUNCTIONS:
            layers = resources[f"{f}Function"]["Properties"]["Layers"]
            assert len(layers) == expected, (backend, f, layers)


def test_the_planner_fills_a_queue_that_workers_drain_with_a_dead_letter_queue(
    deployed: Deployed,
) -> None:
    """The transformed stack wires the fan-out: the planner knows the queue, the queue
    redrives to its dead-letter queue, and the worker reads it in batches that report their
    failures one by one, at a bounded concurrency, with a visibility timeout six times its
    own timeout."""
    resources = deployed(RecomputeConcurrency="25")
    planner = resources["RecomputeFunction"]["Properties"]
    assert planner["Environment"]["Variables"]["BANDIT_RECOMPUTE_QUEUE_URL"] == {
        "Ref": "RecomputeQueue"
    }
    queue = resources["RecomputeQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["RecomputeDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    worker = resources["RecomputeWorkerFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    (mapping,) = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["RecomputeQueue", "Arn"]}
    assert props["FunctionName"] == {"Ref": "RecomputeWorkerFunction"}
    assert (props["BatchSize"], props["FunctionResponseTypes"]) == (
        10,
        ["ReportBatchItemFailures"],
    )
    assert props["ScalingConfig"] == {"MaximumConcurrency": "25"}  # the parameter, resolved
    alarms = {
        r["Properties"].get("MetricName")
        or r["Properties"]["Metrics"][1]["MetricStat"]["Metric"]["MetricName"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {
        "ApproximateNumberOfMessagesVisible",  # the dead-letter queue
        "ApproximateAgeOfOldestMessage",  # a run that did not finish inside its period
    } <= alarms


def test_admin_function_exists_only_in_dev(deployed: Deployed) -> None:
    assert "AdminFunction" in deployed(Stage="dev")
    prod = deployed(Stage="prod")
    assert not [name for name in prod if name.startswith("Admin")]
    assert "ExperimentsFunction" in prod


def test_recompute_runs_on_a_schedule_v2_every_hour_by_default(
    template: Template, deployed: Deployed
) -> None:
    event = template["Resources"]["RecomputeFunction"]["Properties"]["Events"]["Schedule"]
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "RecomputeSchedule"}
    param = template["Parameters"]["RecomputeSchedule"]
    assert param["Default"] == "rate(1 hour)"
    pattern = re.compile(param["AllowedPattern"])
    assert pattern.match("rate(15 minutes)")
    assert not pattern.match("rate(0 hours)")
    schedules = [
        r
        for r in deployed(RecomputeSchedule="rate(6 hours)").values()
        if r["Type"] == "AWS::Scheduler::Schedule"
    ]
    assert [s["Properties"]["ScheduleExpression"] for s in schedules] == ["rate(6 hours)"]


def test_snapstart_is_optional_on_published_versions_of_the_api_functions(
    deployed: Deployed,
) -> None:
    for flag, expected in (("true", "PublishedVersions"), ("false", "None")):
        resources = deployed(EnableSnapStart=flag)
        for f in ("Experiments", "Events", "Allocation", "History"):
            assert resources[f"{f}Function"]["Properties"]["SnapStart"] == {"ApplyOn": expected}
            assert any(
                r["Type"] == "AWS::Lambda::Alias"
                and r["Properties"]["Name"] == "live"
                and r["Properties"]["FunctionName"] == {"Ref": f"{f}Function"}
                for r in resources.values()
            ), f


def test_store_backend_switches_tables_and_secret(deployed: Deployed) -> None:
    dynamo = deployed(StoreBackend="dynamodb")
    env = dynamo["EventsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BANDIT_STORE_URL"] == {
        "Fn::Sub": "dynamodb://${DataTable}?region=${AWS::Region}"
        "&idempotency_table=${IdempotencyTable}&max_attempts=4&read_timeout=3"
    }
    # The store's retry budget (attempts x (2 s connect + read) + throttling backoff of at
    # most 1 + 2 + 4 s) ends inside the function timeout, so a throttled store is a 503.
    query = dict(p.split("=") for p in env["BANDIT_STORE_URL"]["Fn::Sub"].split("?")[1].split("&"))
    budget = int(query["max_attempts"]) * (2 + float(query["read_timeout"])) + 7
    assert budget < dynamo["EventsFunction"]["Properties"]["Timeout"] < 29
    assert "BANDIT_DATABASE_SECRET_ARN" not in env
    assert {"DataTable", "IdempotencyTable"} <= set(dynamo)
    assert "PostgresLayer" not in str(sorted(dynamo))

    pg = deployed(StoreBackend="postgres", DatabaseSecretArn=SECRET)
    env = pg["EventsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BANDIT_DATABASE_SECRET_ARN"] == SECRET
    # host, port and database come from parameters (an RDS-managed secret has none of them)
    url = env["BANDIT_STORE_URL"]["Fn::Sub"]
    assert url.startswith("postgresql://${DatabaseHost}:${DatabasePort}/${DatabaseName}?")
    assert "sslmode=verify-full" in url
    # the CA bundle it names ships in the layer (SAM puts layers/banditkit under /opt/python)
    rootcert = dict(p.split("=") for p in url.split("?")[1].split("&"))["sslrootcert"]
    assert rootcert.startswith("/opt/python/banditkit/")
    shipped = ROOT / "layers/banditkit" / rootcert.removeprefix("/opt/python/")
    assert shipped.read_text().count("BEGIN CERTIFICATE") >= 100
    assert not {"DataTable", "IdempotencyTable", "DynamoDbThrottlesAlarm"} & set(pg)
    assert "VpcConfig" not in pg["EventsFunction"]["Properties"]

    vpc = deployed(
        StoreBackend="postgres",
        DatabaseSecretArn=SECRET,
        VpcSubnetIds="subnet-1,subnet-2",
        VpcSecurityGroupIds="sg-1",
    )
    assert vpc["EventsFunction"]["Properties"]["VpcConfig"] == {
        "SubnetIds": ["subnet-1", "subnet-2"],
        "SecurityGroupIds": ["sg-1"],
    }


def test_postgres_without_a_secret_is_refused_by_a_rule(template: Template) -> None:
    rule = template["Rules"]["PostgresNeedsSecret"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "StoreBackend"}, "postgres"]}
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DatabaseSecretArn"}, ""]}]
    }


def test_dashboard_bucket_is_private_encrypted_and_tls_only(template: Template) -> None:
    resources = template["Resources"]
    props = resources["DashboardBucket"]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    (statement,) = resources["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["DashboardBucket", "Arn"]},
        {"Fn::Sub": "${DashboardBucket.Arn}/*"},
    ]


def test_dashboard_routes_read_the_bucket_through_a_get_object_only_role(
    transformed: Template,
) -> None:
    body = transformed["Resources"]["BanditApi"]["Properties"]["Body"]
    for path, key in (("/dashboard", "index.html"), ("/dashboard/{proxy+}", "{proxy}")):
        operation = body["paths"][path]["get"]
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws"
        assert integration["httpMethod"] == "GET"
        assert integration["uri"] == {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:s3:path/"
            f"${{DashboardBucket}}/{key}"
        }
        assert integration["credentials"] == {"Fn::GetAtt": ["DashboardReadRole", "Arn"]}
        assert "security" not in operation  # public: the page itself asks for the key
    role = transformed["Resources"]["DashboardReadRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${DashboardBucket.Arn}/*"},
        }
    ]


def test_merge_definitions_keeps_function_routes_beside_the_dashboard(
    template: Template, transform: Transform
) -> None:
    """Without MergeDefinitions SAM keeps only the inline body: the dashboard would deploy
    and every function route would silently vanish. Prove both halves, and the failure."""
    api = template["Resources"]["BanditApi"]["Properties"]
    assert api["MergeDefinitions"] is True
    paths = transform(template)["Resources"]["BanditApi"]["Properties"]["Body"]["paths"]
    assert {"/dashboard", "/dashboard/{proxy+}", "/events", "/allocation"} <= set(paths)

    broken: dict[str, Any] = yaml_copy(template)
    del broken["Resources"]["BanditApi"]["Properties"]["MergeDefinitions"]
    paths = transform(broken)["Resources"]["BanditApi"]["Properties"]["Body"]["paths"]
    assert set(paths) == {"/dashboard", "/dashboard/{proxy+}"}


def yaml_copy(template: Template) -> Template:
    import yaml

    copied: Template = yaml.safe_load(yaml.safe_dump(template))
    return copied


def test_api_key_scheme_is_defined_for_the_keyed_methods(transformed: Template) -> None:
    """SAM marks keyed methods `security: api_key` but defines the scheme only when the API
    itself has Auth; API Gateway needs the definition to enforce the key."""
    body = transformed["Resources"]["BanditApi"]["Properties"]["Body"]
    assert body["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }


def test_each_named_key_has_its_own_usage_plan_from_parameters(deployed: Deployed) -> None:
    resources = deployed(
        ApiThrottleRateLimit="7",
        ApiThrottleBurstLimit="9",
        ApiQuotaLimit="1234",
        WriteQuotaLimit="2345",
        ReadQuotaLimit="3456",
        ApiQuotaPeriod="WEEK",
    )
    for prefix, quota, scope in (
        ("", "1234", "admin"),
        ("Write", "2345", "write"),
        ("Read", "3456", "read"),
    ):
        plan = resources[f"{prefix}UsagePlan"]["Properties"]
        assert plan["Throttle"] == {"RateLimit": "7", "BurstLimit": "9"}
        assert plan["Quota"] == {"Limit": quota, "Period": "WEEK"}
        assert plan["ApiStages"] == [
            {"ApiId": {"Ref": "BanditApi"}, "Stage": {"Ref": "BanditApiStage"}}
        ]
        key = resources[f"{prefix}UsagePlanKey"]["Properties"]
        assert key == {
            "KeyId": {"Ref": f"{prefix}ApiKey"},
            "KeyType": "API_KEY",
            "UsagePlanId": {"Ref": f"{prefix}UsagePlan"},
        }
        assert resources[f"{prefix}ApiKey"]["Properties"]["Name"] == {
            "Fn::Sub": f"${{AWS::StackName}}-{scope}"
        }
    # the app learns each validated key's scope from its id
    for fn in ("Experiments", "Events", "Allocation", "History", "Admin"):
        env = resources[f"{fn}Function"]["Properties"]["Environment"]["Variables"]
        assert env["BANDIT_API_KEY_IDS"] == {
            "Fn::Sub": "${ApiKey}=admin,${WriteApiKey}=write,${ReadApiKey}=read"
        }
    stage = resources["BanditApiStage"]["Properties"]
    assert stage["StageName"] == "dev"
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == "7"


def test_gateway_refusals_are_problem_json(transformed: Template) -> None:
    body = transformed["Resources"]["BanditApi"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses["INVALID_API_KEY"]["statusCode"] == "401"
    statuses = {
        "INVALID_API_KEY": 401,
        "MISSING_AUTHENTICATION_TOKEN": 404,
        "THROTTLED": 429,
        "QUOTA_EXCEEDED": 429,
        "REQUEST_TOO_LARGE": 413,
        "INTEGRATION_TIMEOUT": 504,
    }
    for name, status in statuses.items():
        params = responses[name]["responseParameters"]
        assert params["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        problem = json.loads(responses[name]["responseTemplates"]["application/json"])
        assert int(responses[name]["statusCode"]) == problem["status"] == status
        assert problem["type"].startswith("https://banditkit.dev/problems/")
    # everything else API Gateway refuses keeps its status and gets a problem+json body
    for name in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert "statusCode" not in responses[name]
        params = responses[name]["responseParameters"]
        assert params["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        template = responses[name]["responseTemplates"]["application/json"]
        # $context.error.messageString is a quoted JSON string: the body parses once it is in
        problem = json.loads(template.replace("$context.error.messageString", '"Forbidden"'))
        assert problem["detail"] == "Forbidden"
        assert problem["type"].startswith("https://banditkit.dev/problems/")


def test_alarms_cover_api_errors_latency_lambda_errors_throttles_recompute_and_dynamodb(
    deployed: Deployed,
) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:ops"
    resources = deployed(Stage="dev", AlarmTopicArn=topic)
    alarms = {
        n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    latency = {f"{f}LatencyAlarm" for f in ("Experiments", "Events", "Allocation", "History")}
    assert set(alarms) == {
        "ApiServerErrorsAlarm",
        "ApiClientErrorsAlarm",
        "LambdaErrorsAlarm",
        "LambdaThrottlesAlarm",
        "DynamoDbThrottlesAlarm",
        "RecomputeFailuresAlarm",
        *latency,
        "RecomputeDeadLettersAlarm",
        "RecomputeBacklogAlarm",
    }
    assert alarms["ApiServerErrorsAlarm"]["MetricName"] == "5XXError"
    assert alarms["ApiClientErrorsAlarm"]["MetricName"] == "4XXError"
    for name in latency:
        props = alarms[name]
        assert (props["MetricName"], props["ExtendedStatistic"]) == ("Duration", "p99"), name
        function = name.removesuffix("LatencyAlarm") + "Function"
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert props["Threshold"] < resources[function]["Properties"]["Timeout"] * 1000
    for name, props in alarms.items():
        assert props["AlarmActions"] == [topic], name
        assert props["OKActions"] == [topic], name
    assert "AlarmTopic" not in resources  # a given topic: none is made
    for name, metric in (("LambdaErrorsAlarm", "Errors"), ("LambdaThrottlesAlarm", "Throttles")):
        watched = {
            m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
            for m in alarms[name]["Metrics"]
            if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == metric
        }
        assert watched == {f"{f}Function" for f in ALL_FUNCTIONS}, name
    recompute = {
        (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
        for m in alarms["RecomputeFailuresAlarm"]["Metrics"]
        if "MetricStat" in m
    }
    assert recompute == {
        ("banditkit", "RecomputeFailures"),
        ("banditkit", "RecomputePlanIncomplete"),
        ("AWS/Lambda", "Errors"),
    }
    prod = deployed(Stage="prod")
    watched_prod = [
        m for m in prod["LambdaErrorsAlarm"]["Properties"]["Metrics"] if "MetricStat" in m
    ]
    assert len(watched_prod) == len(ALL_FUNCTIONS) - 1  # no admin function in prod


def test_without_a_topic_the_stack_makes_one_and_every_alarm_notifies_it(
    deployed: Deployed,
) -> None:
    for stage in ("dev", "prod"):
        resources = deployed(Stage=stage)
        assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
        assert "AlarmEmailSubscription" not in resources
        alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        assert len(alarms) >= 10
        for alarm in alarms:
            assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    subscribed = deployed(Stage="prod", AlarmEmail="ops@example.com")
    assert subscribed["AlarmEmailSubscription"]["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }


def test_operations_dashboard_shows_latency_errors_events_and_allocations(
    template: Template,
) -> None:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    for needle in ('"Latency"', '"5XXError"', '"EventsIngested"', '"AllocationsComputed"'):
        assert needle in body


def test_metric_names_match_the_apps_telemetry(template: Template) -> None:
    from banditkit import telemetry

    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    assert f'"{telemetry.EVENTS_INGESTED}"' in body
    assert f'"{telemetry.ALLOCATIONS_COMPUTED}"' in body


def test_outputs_name_api_dashboard_bucket_table_and_key(template: Template) -> None:
    outputs = template["Outputs"]
    assert {"ApiUrl", "DashboardUrl", "DashboardBucketName", "DataTableName", "ApiKeyId"} <= set(
        outputs
    )
    assert outputs["DashboardUrl"]["Value"]["Fn::Sub"].endswith("/${Stage}/dashboard/")
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "ApiKey"}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_samconfig_environment_sets_valid_parameters(
    env: str, template: Template, transform: Transform
) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[env]
    assert config["global"]["parameters"]["stack_name"] == f"banditkit-{env}"
    deploy = config["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is (env == "prod")
    overrides = dict(pair.split("=", 1) for pair in shlex.split(deploy["parameter_overrides"]))
    assert overrides["Stage"] == env
    for name, value in overrides.items():
        spec = template["Parameters"][name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
    transform(template, overrides)  # transforms cleanly with these values


def test_reset_needs_dev_and_an_admin_key_kept_in_secrets_manager(deployed: Deployed) -> None:
    key = "k" * 24
    dev = deployed(Stage="dev", AdminKey=key)
    assert dev["AdminKeySecret"]["Type"] == "AWS::SecretsManager::Secret"
    assert dev["AdminKeySecret"]["Properties"]["SecretString"] == key
    for function in ("AdminFunction", "ExperimentsFunction"):  # health reports reset_enabled
        env = dev[function]["Properties"]["Environment"]["Variables"]
        assert env["BANDIT_ENABLE_RESET"] == "true"
        assert env["BANDIT_ADMIN_KEY_SECRET_ARN"] == {"Ref": "AdminKeySecret"}
    # the key itself is in no function's environment, and only the admin role may read it
    for name, res in dev.items():
        if res["Type"] == "AWS::Lambda::Function":
            assert key not in str(res["Properties"].get("Environment")), name
    readers = {
        name
        for name, res in dev.items()
        if res["Type"] == "AWS::IAM::Role"
        and {"Ref": "AdminKeySecret"}
        in [
            st.get("Resource")
            for policy in res["Properties"].get("Policies", [])
            for st in policy["PolicyDocument"]["Statement"]
        ]
    }
    assert readers == {"AdminRole"}
    assert (
        "BANDIT_ADMIN_KEY_SECRET_ARN"
        not in dev["EventsFunction"]["Properties"]["Environment"]["Variables"]
    )

    keyless = deployed(Stage="dev")
    env = keyless["AdminFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BANDIT_ENABLE_RESET"] == "false"
    assert "BANDIT_ADMIN_KEY_SECRET_ARN" not in env
    assert "AdminKeySecret" not in keyless

    prod = deployed(Stage="prod", AdminKey=key)  # refused by a Rule; still no reset
    env = prod["ExperimentsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BANDIT_ENABLE_RESET"] == "false"
    assert "AdminKeySecret" not in prod
    assert "BANDIT_ADMIN_KEY" not in env


def test_the_admin_key_rule_is_the_servers(template: Template) -> None:
    """The stack refuses the same admin keys the server refuses at start-up."""
    from banditkit.config import ADMIN_KEY_MIN_LENGTH

    pattern = template["Parameters"]["AdminKey"]["AllowedPattern"]
    assert pattern == f"^(.{{{ADMIN_KEY_MIN_LENGTH},}})?$"
    assert ADMIN_KEY_MIN_LENGTH == 16


def test_dashboard_routes_map_s3_errors_redirect_the_slashless_path_and_set_headers(
    transformed: Template,
) -> None:
    body = transformed["Resources"]["BanditApi"]["Properties"]["Body"]
    for path in ("/dashboard", "/dashboard/{proxy+}"):
        operation = body["paths"][path]["get"]
        responses = operation["x-amazon-apigateway-integration"]["responses"]
        # S3's own errors (XML, its status) become problem+json 404 and 502, never a 200
        assert [responses[p]["statusCode"] for p in ("4\\d{2}", "5\\d{2}", "default")] == [
            "404",
            "502",
            "200",
        ]
        for pattern, status in (("4\\d{2}", 404), ("5\\d{2}", 502)):
            problem = json.loads(responses[pattern]["responseTemplates"]["application/json"])
            assert problem["status"] == status
            params = responses[pattern]["responseParameters"]
            assert params["method.response.header.Content-Type"] == "'application/problem+json'"
        ok = responses["default"]["responseParameters"]
        assert ok["method.response.header.Content-Security-Policy"] == (
            "integration.response.header.x-amz-meta-csp"
        )
        assert ok["method.response.header.X-Content-Type-Options"] == "'nosniff'"
        assert ok["method.response.header.X-Frame-Options"] == "'DENY'"
        # API Gateway refuses a mapping to a header the method response does not declare
        for status, response in (("200", responses["default"]), ("404", responses["4\\d{2}"])):
            declared = set(operation["responses"][status]["headers"])
            mapped = {k.rsplit(".", 1)[1] for k in response["responseParameters"]}
            assert mapped <= declared, (path, status, mapped - declared)
    entry = body["paths"]["/dashboard"]["get"]["x-amazon-apigateway-integration"]
    for template in entry["responses"]["default"]["responseTemplates"].values():
        assert '#if(!$context.path.endsWith("/"))' in template
        assert "#set($context.responseOverride.status = 301)" in template
        assert '#set($context.responseOverride.header.Location = "$context.path/")' in template
        assert template.rstrip().endswith("$input.body")
