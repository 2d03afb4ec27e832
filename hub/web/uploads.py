"""A posted file from an HTML form (``multipart/form-data``), read with the standard library.

The hub has no multipart dependency: the dashboard's uploads are small (a CSV, at most
:data:`MAX_UPLOAD_BYTES`), so the body is read whole and parsed with :mod:`email`'s MIME parser.
"""

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP

MAX_UPLOAD_BYTES = 6_000_000


@dataclass
class Upload:
    """The text fields and the files (name -> (file name, bytes)) of one posted form."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def parse_multipart(content_type: str, body: bytes) -> Upload:
    """The parts of a ``multipart/form-data`` body (an empty Upload for anything else)."""
    out = Upload()
    if not content_type.startswith("multipart/form-data") or len(body) > MAX_UPLOAD_BYTES:
        return out
    head = b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return out
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            out.files[name] = (filename, data)
        else:
            out.fields[name] = data.decode("utf-8", errors="replace")
    return out
