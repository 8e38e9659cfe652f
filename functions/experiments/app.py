"""experiments function (DESIGN §2): the experiments router behind API Gateway, through Mangum."""

from banditkit.http.aws import api_function
from banditkit.http.routers import experiments

handler = api_function("experiments", experiments.router)
