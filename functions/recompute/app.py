"""recompute planner: the EventBridge Scheduler job finds the running experiments whose data
changed and queues them for the workers (or, without a queue, recomputes them itself)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from banditkit.aws import NAMESPACE, Traced, flushed, recompute

logger = Logger(service="banditkit-recompute")
metrics = Metrics(namespace=NAMESPACE, service="recompute")
job = Traced(lambda event, context: recompute(context, metrics), "recompute")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
def handler(event: dict[str, Any], context: Any) -> Any:
    with flushed(metrics):
        return job(event, context)
