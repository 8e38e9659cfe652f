"""allocation function (DESIGN §2): the allocation router behind API Gateway, through Mangum."""

from banditkit.http.aws import api_function
from banditkit.http.routers import allocation

handler = api_function("allocation", allocation.router)
