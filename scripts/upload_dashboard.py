"""Upload frontend/ to the dashboard bucket of a deployed stack (the last step of `make deploy`).

Reads the stack name (and region, if set) from samconfig.toml, finds the bucket in the
stack's outputs, uploads every file with its content type, cache policy and the dashboard's
Content-Security-Policy as metadata (API Gateway passes all three through), deletes objects
that are no longer in frontend/, and prints the dashboard URL. With --show-key it also
prints the (admin) API key's value.

    python scripts/upload_dashboard.py --config-env dev [--show-key]
"""

from __future__ import annotations

import argparse
import mimetypes
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from banditkit.local import DASHBOARD_CSP

ROOT = Path(__file__).resolve().parent.parent

# Explicit types for what the dashboard ships; ES modules need a JavaScript type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE, VERSION
}
# The entry page is revalidated on every visit so a deploy shows at once; assets for 5 min.
ENTRY_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def dashboard_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(object key, file) for every file under `folder`, dotfiles excluded."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            yield rel.as_posix(), path


def upload(s3: Any, bucket: str, folder: Path) -> tuple[list[str], list[str]]:
    """Mirror `folder` into `bucket`; return (keys uploaded, stale keys deleted)."""
    uploaded = []
    for key, path in dashboard_files(folder):
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(path),
            CacheControl=ENTRY_CACHE if key == "index.html" else ASSET_CACHE,
            # API Gateway sends it as Content-Security-Policy (template.yaml, dashboard routes)
            Metadata={"csp": DASHBOARD_CSP},
        )
        uploaded.append(key)
    wanted = set(uploaded)
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in wanted]
    for start in range(0, len(stale), 1000):
        chunk = [{"Key": key} for key in stale[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
    return uploaded, stale


def stack_settings(config_file: Path, env: str) -> tuple[str, str | None]:
    """(stack name, region or None) of a samconfig.toml environment."""
    config = tomllib.loads(config_file.read_text())
    params: dict[str, Any] = {}
    for command in ("global", "deploy"):
        params |= config.get(env, {}).get(command, {}).get("parameters", {})
    if "stack_name" not in params:
        raise SystemExit(f"{config_file}: no stack_name for environment {env!r}")
    region = params.get("region")
    return str(params["stack_name"]), str(region) if region else None


def main() -> None:
    import boto3  # the deploy tooling's dependency, not the app's: imported when run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="dev", help="samconfig.toml environment")
    parser.add_argument("--config-file", type=Path, default=ROOT / "samconfig.toml")
    parser.add_argument("--stack", help="stack name (default: from samconfig.toml)")
    parser.add_argument("--region", help="AWS region (default: samconfig.toml, then profile)")
    parser.add_argument("--frontend", type=Path, default=ROOT / "frontend")
    parser.add_argument("--show-key", action="store_true", help="print the API key value")
    args = parser.parse_args()

    stack, region = stack_settings(args.config_file, args.config_env)
    session = boto3.session.Session(region_name=args.region or region)
    described = session.client("cloudformation").describe_stacks(StackName=args.stack or stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}

    uploaded, stale = upload(session.client("s3"), outputs["DashboardBucketName"], args.frontend)
    print(f"uploaded {len(uploaded)} files, removed {len(stale)} stale objects")
    print(f"dashboard: {outputs['DashboardUrl']}")
    print(f"API:       {outputs['ApiUrl']}")
    if args.show_key:
        key = session.client("apigateway").get_api_key(
            apiKey=outputs["ApiKeyId"], includeValue=True
        )
        print(f"API key:   {key['value']}")
    else:
        print(
            "API key:   rerun with --show-key, or: aws apigateway get-api-key "
            f"--api-key {outputs['ApiKeyId']} --include-value --query value --output text"
        )


if __name__ == "__main__":
    main()
