"""Every deploy that changes what an API function runs moves its `live` alias (the one API
Gateway calls) to a new version, and a deploy that changes nothing publishes nothing.

A code or layer change: SAM names the version after the function's properties and its
layers (AutoPublishAliasAllProperties, PublishLambdaVersion). A parameter change: SAM cannot
see it (it hashes `!Ref LogLevel`, not INFO), so the version's description carries a digest
of the configuration it is published from, and CloudFormation replaces a version whose
description changes. Both checked on the offline SAM transform, with the parameters
resolved as CloudFormation would and the digest computed by the template's own code."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
Template = dict[str, Any]
Transform = Callable[..., Template]
ALIASED = ["ExperimentsFunction", "EventsFunction", "AllocationFunction", "HistoryFunction"]
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:banditkit-db-AbCdEf"
ADMIN_KEY = "k" * 20


def published(transformed: Template) -> dict[str, str]:
    """function -> the logical id of the version its `live` alias points at."""
    resources = transformed["Resources"]
    out = {}
    for res in resources.values():
        if res["Type"] == "AWS::Lambda::Alias" and res["Properties"]["Name"] == "live":
            version = res["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
            assert resources[version]["Type"] == "AWS::Lambda::Version"
            out[res["Properties"]["FunctionName"]["Ref"]] = version
    return out


def with_layer_content(template: Template, layer: str, key: str) -> Template:
    """The template as `sam package` leaves it after the layer's content changed (a new S3
    key: sam package names the upload after its content hash)."""
    changed = copy.deepcopy(template)
    changed["Resources"][layer]["Properties"]["ContentUri"] = key
    return changed


# ------------------------------------------------------------------ code and layer changes


def test_a_layer_only_change_publishes_a_new_version_of_every_api_function(
    template: Template, transform: Transform
) -> None:
    # Given the same template transformed twice: nothing changed, nothing is published
    first = published(transform(template))
    assert sorted(first) == sorted(ALIASED)
    assert published(transform(template)) == first
    # When only the banditkit layer's content changes (all app code lives there)
    changed = published(transform(with_layer_content(template, "BanditkitLayer", "layers/v2")))
    # Then every aliased API function gets a new version and the alias moves to it
    for function in ALIASED:
        assert changed[function] != first[function], function
    # and a change of the function's own code does so too, for that function alone
    code = copy.deepcopy(template)
    code["Resources"]["EventsFunction"]["Properties"]["CodeUri"] = "functions/events-v2"
    moved = published(transform(code))
    assert moved["EventsFunction"] != first["EventsFunction"]
    assert {f: v for f, v in moved.items() if f != "EventsFunction"} == {
        f: v for f, v in first.items() if f != "EventsFunction"
    }


def test_layers_are_new_versions_with_their_content(
    template: Template, transform: Transform
) -> None:
    def layer_ids(t: Template) -> set[str]:
        return {n for n, r in t["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"}

    before = layer_ids(transform(template))
    after = layer_ids(transform(with_layer_content(template, "BanditkitLayer", "layers/v2")))
    assert len(before) == len(after) == 2
    assert len(before & after) == 1  # the PostgreSQL layer is unchanged
    for layer in ("BanditkitLayer", "PostgresLayer"):
        assert template["Resources"][layer]["Properties"]["PublishLambdaVersion"] is True


def test_admin_and_recompute_run_their_latest_code_without_an_alias(
    transform: Transform, template: Template
) -> None:
    """They have no alias: the schedule and the /reset_data integration call $LATEST, which
    a deployment updates in place (so they never lag behind the aliased functions)."""
    out = transform(template)
    assert {"AdminFunction", "RecomputeFunction"}.isdisjoint(published(out))
    assert "AutoPublishAlias" not in template["Resources"]["AdminFunction"]["Properties"]
    assert "AutoPublishAlias" not in template["Resources"]["RecomputeFunction"]["Properties"]


# ------------------------------------------------------------------ parameter changes


def load_parameters() -> dict[str, dict[str, Any]]:
    """The template's Parameters section (no short tags in it), read at collection."""
    loader = type("TagBlind", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda *_: None)
    parameters: dict[str, dict[str, Any]] = yaml.load(
        (ROOT / "template.yaml").read_text(), Loader=loader
    )["Parameters"]
    return parameters


PARAMETERS = load_parameters()
# Values for each parameter that has neither AllowedValues nor a numeric type.
SAMPLES = {
    "AdminKey": [ADMIN_KEY, "j" * 20],
    "DatabaseSecretArn": [SECRET.replace("AbCdEf", "GhIjKl")],
    "DatabaseHost": ["other.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com"],
    "DatabaseName": ["banditkit"],
    "VpcSubnetIds": ["subnet-3"],
    "VpcSecurityGroupIds": ["sg-2,sg-3"],
    "RecomputeSchedule": ["rate(2 hours)"],
    "AlarmTopicArn": ["arn:aws:sns:eu-west-1:123456789012:ops"],
    "AlarmEmail": ["ops@example.com"],
}
POSTGRES = {
    "StoreBackend": "postgres",
    "DatabaseSecretArn": SECRET,
    "DatabaseHost": "db.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com",
    "VpcSubnetIds": "subnet-1,subnet-2",
    "VpcSecurityGroupIds": "sg-1",
}
# Stacks a change starts from: each parameter is changed alone from every one of them whose
# Rules accept the change.
BASES: dict[str, dict[str, str]] = {
    "dev": {"Stage": "dev"},
    "dev-reset": {"Stage": "dev", "AdminKey": ADMIN_KEY},
    "postgres": {"Stage": "prod", **POSTGRES},
}
# Parameters that the Rules let change only together with others.
TOGETHER = {"StoreBackend": ({"Stage": "prod"}, {"Stage": "prod", **POSTGRES})}


def other_value(name: str, current: Any) -> str:
    spec = PARAMETERS[name]
    if "AllowedValues" in spec:
        return str(next(v for v in spec["AllowedValues"] if str(v) != str(current)))
    if spec["Type"] == "Number":
        step = -1 if "MaxValue" in spec and int(current) + 1 > spec["MaxValue"] else 1
        return str(int(current) + step)
    assert name in SAMPLES, f"give {name} a second value in SAMPLES"
    return next(v for v in SAMPLES[name] if v != current)


def changes(name: str) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """(label, before, after): the parameter sets that change `name` alone."""
    if name in TOGETHER:
        before, after = TOGETHER[name]
        yield "together", before, after
        return
    for label, base in BASES.items():
        current = base.get(name, PARAMETERS[name].get("Default", ""))
        yield label, base, {**base, name: other_value(name, current)}


def digest_code(template: Template) -> dict[str, Any]:
    """The digest function's inline code, loaded as Lambda loads it."""
    namespace: dict[str, Any] = {}
    code = template["Resources"]["ConfigDigestFunction"]["Properties"]["Code"]["ZipFile"]
    exec(compile(code, "index.py", "exec"), namespace)
    return namespace


def cfn_strings(value: Any) -> Any:
    """A custom resource's properties as CloudFormation sends them: scalars as strings."""
    if isinstance(value, dict):
        return {k: cfn_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cfn_strings(v) for v in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


class Stack:
    """One deploy: the transform CloudFormation runs with these parameters, resolved, and
    the digests the custom resource answers with (the template's code on its properties)."""

    def __init__(self, transformed: Template, evaluator: Any, parameters: Mapping[str, str]):
        self.transformed = transformed
        self.resources = evaluator(transformed, parameters, substitute=True).resources()
        digester = self.resources.get("FunctionConfigDigest")
        self.digests: dict[str, str] = {}
        if digester is not None:
            code = digest_code(transformed)
            self.digests = code["digests"](cfn_strings(digester["Properties"]["Configuration"]))

    def function(self, name: str) -> dict[str, Any]:
        """What the deploy sets on the function ($LATEST's configuration and code)."""
        properties: dict[str, Any] = self.resources[name]["Properties"]
        return properties

    def version(self, name: str) -> tuple[str, dict[str, Any]]:
        """The version `live` points at: its logical id and its properties."""
        logical = published(self.transformed)[name]
        text = json.dumps(self.resources[logical]["Properties"])
        for function, digest in self.digests.items():
            text = text.replace("${FunctionConfigDigest." + function + "}", digest)
        properties: dict[str, Any] = json.loads(text)
        return logical, properties


Deploy = Callable[[Template, Mapping[str, str]], Stack]


@pytest.fixture(scope="module")
def deploy(transform: Transform, evaluator: Any) -> Deploy:
    """deploy(template, parameters) -> Stack, each transform made once per module."""
    made: dict[str, Stack] = {}

    def make(template: Template, parameters: Mapping[str, str]) -> Stack:
        key = json.dumps([template, sorted(parameters.items())], sort_keys=True, default=str)
        if key not in made:
            made[key] = Stack(transform(template, parameters), evaluator, parameters)
        return made[key]

    return make


def refused(template: Template, evaluator: Any, parameters: Mapping[str, str]) -> bool:
    """Whether a Rule refuses the parameter set (CloudFormation would not deploy it)."""
    checker = evaluator(template, parameters)
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not checker.truth(rule["RuleCondition"]):
            continue
        if not all(checker.truth(a["Assert"]) for a in rule["Assertions"]):
            return True
    return False


def moved(before: Stack, after: Stack, function: str) -> bool:
    """Whether `live` ends on another version: a new logical id (SAM) or a changed
    description (CloudFormation replaces a version whose description changes); both
    publish a version from the function's configuration at that point of the deploy."""
    id_before, props_before = before.version(function)
    id_after, props_after = after.version(function)
    return id_before != id_after or props_before.get("Description") != props_after.get(
        "Description"
    )


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_a_parameter_change_publishes_exactly_the_versions_whose_configuration_it_changes(
    template: Template, evaluator: Any, deploy: Deploy, name: str
) -> None:
    tried = []
    for label, before_set, after_set in changes(name):
        if refused(template, evaluator, after_set):
            continue
        tried.append(label)
        before, after = deploy(template, before_set), deploy(template, after_set)
        for function in ALIASED:
            if before.function(function) != after.function(function):
                assert moved(before, after, function), (label, function)
            else:
                assert after.version(function) == before.version(function), (label, function)
    assert tried, f"no accepted change of {name}: add a base stack or a TOGETHER entry"


# The parameters that reach the API functions' configuration, from the stack they are
# changed in, and the functions they reach: a change must publish there (so the equivalence
# above cannot hold by publishing nothing anywhere).
PUBLISHING = {
    "LogLevel": ("dev", set(ALIASED)),
    "TracingMode": ("dev", set(ALIASED)),
    "EnableSnapStart": ("dev", set(ALIASED)),
    "Arch": ("dev", set(ALIASED)),
    "AdminKey": ("dev", {"ExperimentsFunction"}),  # reset on: GET /health says so
    "VpcSubnetIds": ("postgres", set(ALIASED)),
    "VpcSecurityGroupIds": ("postgres", set(ALIASED)),
    "DatabaseHost": ("postgres", set(ALIASED)),
    "DatabasePort": ("postgres", set(ALIASED)),
    "DatabaseName": ("postgres", set(ALIASED)),
    "DatabaseSecretArn": ("postgres", set(ALIASED)),
}


@pytest.mark.parametrize("name", sorted(PUBLISHING))
def test_the_parameters_the_functions_see_publish_new_versions(
    template: Template, deploy: Deploy, name: str
) -> None:
    base, expected = PUBLISHING[name]
    current = BASES[base].get(name, PARAMETERS[name].get("Default", ""))
    before = deploy(template, BASES[base])
    after = deploy(template, {**BASES[base], name: other_value(name, current)})
    assert {f for f in ALIASED if moved(before, after, f)} == expected


def test_a_postgres_layer_only_change_publishes_a_new_version_of_every_api_function(
    template: Template, deploy: Deploy
) -> None:
    before = deploy(template, BASES["postgres"])
    after = deploy(with_layer_content(template, "PostgresLayer", "layers/v2"), BASES["postgres"])
    for function in ALIASED:
        assert moved(before, after, function), function
    # a stack on DynamoDB has no such layer: nothing to publish there
    before = deploy(template, BASES["dev"])
    after = deploy(with_layer_content(template, "PostgresLayer", "layers/v2"), BASES["dev"])
    assert not any(moved(before, after, function) for function in ALIASED)


def test_no_deploy_without_a_change_publishes_and_the_admin_key_is_never_digested(
    template: Template, transform: Transform, evaluator: Any
) -> None:
    for parameters in BASES.values():
        first = Stack(transform(template, parameters), evaluator, parameters)
        again = Stack(transform(template, parameters), evaluator, parameters)
        for function in ALIASED:
            assert first.version(function) == again.version(function), function
            description = first.version(function)[1]["Description"]["Fn::Sub"]
            assert description.startswith("configuration ")
            assert "${" not in description
            assert len(description) <= 256  # what a version's description holds
        assert len(set(first.digests.values())) == len(ALIASED)
        digested = json.dumps(first.resources["FunctionConfigDigest"]["Properties"])
        assert ADMIN_KEY not in digested


def intrinsic(value: Any) -> bool:
    """Whether a value holds a Ref, GetAtt, Sub, If, ...: something SAM hashes unresolved."""
    if isinstance(value, dict):
        return any(k == "Ref" or k.startswith("Fn::") or intrinsic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(intrinsic(v) for v in value)
    return False


def test_the_digest_covers_every_configuration_value_that_is_not_written_out(
    template: Template,
) -> None:
    """The digested configuration is Globals' and each aliased function's properties that
    hold an intrinsic, exactly as written there: edit one, and this says to edit the other."""
    configuration = template["Resources"]["FunctionConfigDigest"]["Properties"]["Configuration"]
    shared = {k: v for k, v in template["Globals"]["Function"].items() if intrinsic(v)}
    assert configuration["Shared"] == shared
    for function in ALIASED:
        props = copy.deepcopy(template["Resources"][function]["Properties"])
        name = function.removesuffix("Function")
        # the digest itself reaches the function (so that a new description always comes
        # with a changed configuration, which Lambda needs to publish) and its version
        assert props["Environment"]["Variables"].pop("BANDIT_CONFIG_DIGEST") == {
            "Fn::GetAtt": ["FunctionConfigDigest", name]
        }
        assert props.pop("VersionDescription") == {
            "Fn::Sub": "configuration ${FunctionConfigDigest." + name + "}"
        }
        if not props["Environment"]["Variables"]:
            del props["Environment"]
        own = {k: v for k, v in props.items() if intrinsic(v) and k != "Events"}
        assert configuration[name] == own, function
    assert set(configuration) == {"Shared", *(f.removesuffix("Function") for f in ALIASED)}


# ------------------------------------------------------------------ the digest function


class _Recorder(BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        _Recorder.bodies.append(
            (self.headers.get("Content-Type", ""), json.loads(self.rfile.read(length)))
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[str]:
    """A local stand-in for the presigned S3 URL CloudFormation waits on."""
    _Recorder.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/answer?X-Amz-Signature=x"
    server.shutdown()
    server.server_close()
    thread.join()


def event(kind: str, url: str, configuration: Any) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/banditkit-dev/1",
        "RequestId": "request-1",
        "LogicalResourceId": "FunctionConfigDigest",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {"ServiceToken": "arn", "Configuration": configuration},
        **({"PhysicalResourceId": "function-config-digest"} if kind != "Create" else {}),
    }


def test_the_digest_function_answers_cloudformation_with_one_digest_per_function(
    template: Template, response_url: str
) -> None:
    code = digest_code(template)
    configuration = {"Shared": {"Tracing": "Active"}, "Events": {"Role": "arn:role/a"}}
    code["handler"](event("Create", response_url, configuration), None)
    changed = {**configuration, "Shared": {"Tracing": "PassThrough"}}
    code["handler"](event("Update", response_url, changed), None)
    code["handler"](event("Delete", response_url, changed), None)
    code["handler"](event("Update", response_url, {"Events": {}}), None)  # no Shared
    (created, updated, deleted, broken) = _Recorder.bodies
    # S3's presigned PUT is signed without a content type: the answer must send none
    assert {c for c, _ in _Recorder.bodies} == {""}
    assert created[1]["Status"] == updated[1]["Status"] == deleted[1]["Status"] == "SUCCESS"
    assert created[1]["PhysicalResourceId"] == updated[1]["PhysicalResourceId"]
    assert list(created[1]["Data"]) == ["Events"]
    assert len(created[1]["Data"]["Events"]) == 16
    assert created[1]["Data"] != updated[1]["Data"]
    assert deleted[1]["Data"] == {}
    assert broken[1]["Status"] == "FAILED"
    assert "KeyError" in broken[1]["Reason"]
    for _, body in _Recorder.bodies:
        assert body["RequestId"] == "request-1"
        assert body["LogicalResourceId"] == "FunctionConfigDigest"
