"""admin function: the admin router behind API Gateway, through Mangum (see
docs/architecture.md)."""

from banditkit.http.aws import api_function
from banditkit.http.routers import admin

handler = api_function("admin", admin.router)
