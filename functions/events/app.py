"""events function: the events router behind API Gateway, through Mangum (see
docs/architecture.md)."""

from banditkit.http.aws import api_function
from banditkit.http.routers import events

handler = api_function("events", events.router)
