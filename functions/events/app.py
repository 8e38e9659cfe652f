"""events function (DESIGN §2): the events router behind API Gateway, through Mangum."""

from banditkit.http.aws import api_function
from banditkit.http.routers import events

handler = api_function("events", events.router)
