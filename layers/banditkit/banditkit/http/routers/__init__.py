"""One router per Lambda function (DESIGN §2)."""
