"""One router per Lambda function (docs/architecture.md).

Endpoints are `async` and call the service through `run_in_threadpool`: blocking store and
engine work never runs on the event loop, and each request makes one threadpool hop (a sync
endpoint would make a second one to validate its response).
"""
