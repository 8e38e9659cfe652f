"""experiments function: the experiments router behind API Gateway, through Mangum (see
docs/architecture.md)."""

from banditkit.http.aws import api_function
from banditkit.http.routers import experiments

handler = api_function("experiments", experiments.router)
