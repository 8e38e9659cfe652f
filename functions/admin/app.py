"""admin function (DESIGN §2): the admin router behind API Gateway, through Mangum."""

from banditkit.http.aws import api_function
from banditkit.http.routers import admin

handler = api_function("admin", admin.router)
