"""The CSV of an upload: the body itself (text/csv), or the `file` field of a
multipart/form-data form, as the original API's clients and HTML forms send it.

Parsed with the standard library's email parser (no multipart dependency in the Lambda
layer); the body is already bounded by BodyLimit.
"""

from __future__ import annotations

from fastapi import Request

from banditkit.service.errors import FieldError, InvalidRequest

FILE_FIELD = "file"


def form_file(content_type: str, body: bytes, field: str = FILE_FIELD) -> bytes:
    """The bytes of the form field `field`; InvalidRequest naming it when absent."""
    # Imported here: the email package costs tens of ms of a cold start's import.
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if isinstance(message, EmailMessage) and message.is_multipart():
        for part in message.iter_parts():
            if (
                isinstance(part, EmailMessage)
                and part.get_param("name", header="content-disposition") == field
            ):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    return payload
    raise InvalidRequest([FieldError(field, "a multipart form needs a file field named 'file'")])


async def upload_bytes(request: Request) -> bytes:
    """The CSV the request carries: the form's `file` field, else the body itself."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return form_file(content_type, body)
    return body
