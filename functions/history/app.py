"""history function (DESIGN §2): the history router behind API Gateway, through Mangum."""

from banditkit.http.aws import api_function
from banditkit.http.routers import history

handler = api_function("history", history.router)
