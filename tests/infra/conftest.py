"""Shared pieces of the infra tier: the parsed template, the offline SAM transform, a small
evaluator of CloudFormation conditions (to see the stack a parameter set deploys), and the
SAM builds (made once per session through `make sam-build`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
REGION = "eu-west-1"

# The API functions (docs/architecture.md): logical id prefix -> the router module serving
# its routes.
API_FUNCTIONS = {
    "Experiments": "experiments",
    "Events": "events",
    "Allocation": "allocation",
    "History": "history",
    "Admin": "admin",
}
ALL_FUNCTIONS = [*API_FUNCTIONS, "Recompute", "RecomputeWorker"]

Template = dict[str, Any]


class CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation's short tags (!Ref, !Sub, ...) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> Template:
    loaded: Template = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)
    return loaded


def sam_transform(template: Template, parameters: Mapping[str, str] | None = None) -> Template:
    """The CloudFormation SAM would deploy, computed offline (no AWS call: every role is
    declared in the template, so no managed-policy lookup is needed)."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    packaged = yaml.safe_load(yaml.safe_dump(template))  # a deep copy the transform may edit
    for resource in packaged["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # as `sam package` would leave them
            if isinstance(props.get(key), str):
                props[key] = f"s3://artifacts/{props[key]}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    out: Template = translator.translate(
        packaged, parameter_values=dict(parameters or {}), get_managed_policy_map=dict
    )
    return out


class Evaluator:
    """Resolves parameters, conditions, Fn::If and AWS::NoValue of a (transformed) template
    for one parameter set, leaving other intrinsics as they are. With `substitute`, also the
    parameters inside Fn::Sub strings (the Fn::Sub stays, around what is left)."""

    NO_VALUE = object()

    def __init__(
        self, template: Template, parameters: Mapping[str, str], substitute: bool = False
    ) -> None:
        self.template = template
        self.substitute = substitute
        self.params: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.params.update(parameters)
        for name, spec in template.get("Parameters", {}).items():
            if spec.get("Type") == "CommaDelimitedList" and isinstance(self.params[name], str):
                value = self.params[name]
                self.params[name] = value.split(",") if value else [""]
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self.truth(self.template["Conditions"][name])
        return self._conditions[name]

    def truth(self, expr: Any) -> bool:
        """A condition, or a Rule's condition or assertion."""
        ((fn, arg),) = expr.items()
        if fn == "Fn::Equals":
            return bool(self.value(arg[0]) == self.value(arg[1]))
        if fn == "Fn::Not":
            return not self.truth(arg[0])
        if fn == "Fn::And":
            return all(self.truth(a) for a in arg)
        if fn == "Fn::Or":
            return any(self.truth(a) for a in arg)
        if fn == "Fn::EachMemberEquals":  # Rules only
            return all(member == self.value(arg[1]) for member in self.value(arg[0]))
        if fn == "Condition":
            return self.condition(arg)
        raise AssertionError(f"unsupported condition function {fn}")

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.value(n) for n in node]
            return [i for i in items if i is not self.NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and arg == "AWS::NoValue":
                return self.NO_VALUE
            if key == "Ref" and arg in self.params:
                return self.params[arg]
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Join" and all(isinstance(v, str) for v in self.value(arg[1])):
                return str(arg[0]).join(self.value(arg[1]))
            if key == "Fn::Sub" and self.substitute:
                return {"Fn::Sub": self.sub(arg)}
        out = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not self.NO_VALUE}

    def sub(self, arg: str | list[Any]) -> str | list[Any]:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            value = variables[name] if name in variables else self.params.get(name)
            return str(value) if isinstance(value, str | int) else match.group(0)

        text = re.sub(r"\$\{([^!}][^}]*)\}", replace, text)
        left = {k: v for k, v in variables.items() if not isinstance(v, str | int)}
        return [text, left] if left else text

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this parameter set creates, with their properties resolved."""
        return {
            name: self.value(res)
            for name, res in self.template["Resources"].items()
            if "Condition" not in res or self.condition(res["Condition"])
        }


Deployed = Callable[..., dict[str, dict[str, Any]]]
Transform = Callable[..., Template]


@dataclass(frozen=True)
class SamCli:
    path: Path
    env: dict[str, str]

    @property
    def cfn_lint(self) -> Path:
        return self.path.parent / "cfn-lint"


@pytest.fixture(scope="session")
def sam_cli() -> SamCli:
    return SamCli(SAM, sam_env())


@pytest.fixture(scope="session")
def evaluator() -> type[Evaluator]:
    """Evaluator(template, parameters): conditions, Rules and resources of a parameter set."""
    return Evaluator


@pytest.fixture(scope="session")
def transform() -> Transform:
    """transform(template, parameters=None) -> the transformed template."""
    return sam_transform


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def transformed(template: Template) -> Template:
    return sam_transform(template)


@pytest.fixture(scope="session")
def deployed(transformed: Template) -> Deployed:
    """deployed(Stage="prod", ...) -> the transformed resources that parameter set creates."""

    def resolve(**parameters: str) -> dict[str, dict[str, Any]]:
        return Evaluator(transformed, parameters).resources()

    return resolve


def sam_env() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    if not SAM.exists():
        pytest.fail(f"{SAM} is missing: `make sam-venv` installs SAM CLI (make test does)")
    return env


def python313() -> Path:
    """The CPython 3.13 that `sam build` uses and that imports the built artifacts."""
    if sys.version_info[:2] == (3, 13):
        return Path(sys.base_prefix) / "bin" / "python3.13"
    candidates = sorted((Path.home() / ".pyenv" / "versions").glob("3.13*/bin/python3.13"))
    if candidates:
        return candidates[-1]
    pytest.fail("no CPython 3.13 found: the Lambda runtime is python3.13 and sam build needs it")


def sam_build(arch: str) -> Path:
    """`make sam-build` for `arch` into its own folder (git-ignored, reused across runs
    through SAM's cache); returns the build folder."""
    build_dir = ROOT / ".aws-sam" / f"build-{arch}"
    result = subprocess.run(
        [
            "make",
            "-s",
            "sam-build",
            f"ARCH={arch}",
            f"SAM_BUILD_DIR={build_dir}",
            f"PY313={python313()}",
        ],
        cwd=ROOT,
        env=sam_env(),
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert result.returncode == 0, f"sam build ({arch}) failed:\n{result.stdout}\n{result.stderr}"
    return build_dir


@pytest.fixture(scope="session")
def py313() -> Path:
    return python313()


@pytest.fixture(scope="session")
def build_arm64() -> Path:
    return sam_build("arm64")


@pytest.fixture(scope="session")
def build_x86_64() -> Path:
    return sam_build("x86_64")
