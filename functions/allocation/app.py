"""allocation function: the allocation router behind API Gateway, through Mangum (see
docs/architecture.md)."""

from banditkit.http.aws import api_function
from banditkit.http.routers import allocation

handler = api_function("allocation", allocation.router)
