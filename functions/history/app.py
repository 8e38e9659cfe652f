"""history function: the history router behind API Gateway, through Mangum (see
docs/architecture.md)."""

from banditkit.http.aws import api_function
from banditkit.http.routers import history

handler = api_function("history", history.router)
