"""events function (DESIGN §2): the events router behind API Gateway, through Mangum."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from banditkit.http.app import create_app
from banditkit.http.aws import NAMESPACE, EmfTelemetry, Traced, flushed, lambda_app
from banditkit.http.routers import events

logger = Logger(service="banditkit-events")
metrics = Metrics(namespace=NAMESPACE, service="events")
api = Traced(lambda_app(create_app([events.router], telemetry=EmfTelemetry(metrics))), "events")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> Any:
    with flushed(metrics):
        return api(event, context)
