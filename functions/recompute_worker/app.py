"""recompute worker: drains the queue the recompute planner fills, one experiment a message."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from banditkit.aws import NAMESPACE, Traced, flushed, recompute_worker

logger = Logger(service="banditkit-recompute-worker")
metrics = Metrics(namespace=NAMESPACE, service="recompute")
job = Traced(lambda event, context: recompute_worker(event, context, metrics), "recompute")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> Any:
    with flushed(metrics):
        return job(event, context)
