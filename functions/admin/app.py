"""admin function (DESIGN §2): the admin router behind API Gateway, through Mangum."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from banditkit.http.app import create_app
from banditkit.http.aws import NAMESPACE, EmfTelemetry, Traced, flushed, lambda_app
from banditkit.http.routers import admin

logger = Logger(service="banditkit-admin")
metrics = Metrics(namespace=NAMESPACE, service="admin")
api = Traced(lambda_app(create_app([admin.router], telemetry=EmfTelemetry(metrics))), "admin")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> Any:
    with flushed(metrics):
        return api(event, context)
