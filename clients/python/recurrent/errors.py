"""Exceptions raised by RecurrentClient: one RecurrentError subclass per gRPC code.

    try:
        client.create_customer(source, "c1", country="Germany")
    except recurrent.InvalidArgument as e:
        print(e.field)    # "customer.country"
        print(e.message)  # "customer.country: must be an ISO 3166-1 alpha-2 code…"
"""

import re

import grpc

__all__ = [
    "RecurrentError", "InvalidArgument", "NotFound", "AlreadyExists",
    "FailedPrecondition", "ResourceExhausted", "Unavailable",
    "DeadlineExceeded", "Unimplemented", "Internal", "Unauthenticated",
    "PermissionDenied", "from_rpc_error",
]

# "invoices[2].line_items[0].service_period_end: must be after …"
_FIELD_PREFIX = re.compile(
    r"^([A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)*): ")
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
_ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
_RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"


class RecurrentError(Exception):
    """A call failed.

    Attributes:
      code: the grpc.StatusCode.
      message: the server's message, e.g. "customer.country: must be …".
      field: the request field the error is about ("customer.country",
        "invoices[2].line_items[0].service_period_end"), or None. Taken from
        a google.rpc.BadRequest detail when the server sends one, otherwise
        from the "field: problem" prefix of the message.
      violations: every (field, description) pair of a google.rpc.BadRequest
        detail (empty when the server sent none).
      reason: the stable reason of a google.rpc.ErrorInfo detail
        ("TAG_LIMIT", "OVERLOADED", …; see docs/api.md, "Errors"), or None.
      domain, metadata: the ErrorInfo's domain ("recurrent") and metadata
        dict (empty without one).
      retry_delay: seconds to wait before retrying, from a google.rpc.RetryInfo
        detail, which the server sends only where a retry can help; None
        otherwise. ``retryable`` is True when it is set.
    """

    def __init__(self, code, message, violations=(), details=None):
        super().__init__("%s: %s" % (code.name, message))
        self.code = code
        self.message = message
        self.violations = list(violations)
        details = details or ErrorDetails()
        self.reason = details.reason
        self.domain = details.domain
        self.metadata = dict(details.metadata)
        self.retry_delay = details.retry_delay
        if self.violations:
            self.field = self.violations[0][0]
        else:
            match = _FIELD_PREFIX.match(message)
            self.field = match.group(1) if match else None

    @property
    def retryable(self):
        """True when the server said a retry can help (RetryInfo)."""
        return self.retry_delay is not None


class InvalidArgument(RecurrentError):
    """INVALID_ARGUMENT: a request field is wrong; see .field."""


class NotFound(RecurrentError):
    """NOT_FOUND: no such source, customer, invoice or subscription."""


class AlreadyExists(RecurrentError):
    """ALREADY_EXISTS: a unique name or external id is taken."""


class FailedPrecondition(RecurrentError):
    """FAILED_PRECONDITION: the request is valid but not in this state."""


class OutOfRange(RecurrentError):
    """OUT_OF_RANGE: a change-feed cursor older than the log's retention."""


class ResourceExhausted(RecurrentError):
    """RESOURCE_EXHAUSTED: the server is overloaded; retry later."""


class Unavailable(RecurrentError):
    """UNAVAILABLE: the server is unreachable or its database busy.

    Retry when ``retryable`` (the server sent RetryInfo). Without it, retrying
    does not help (``DATABASE_REPLACED``), or the write may already be stored
    (``COMMIT_OUTCOME_UNKNOWN``: read it back before sending it again).
    """


class DeadlineExceeded(RecurrentError):
    """DEADLINE_EXCEEDED: no answer within the client's timeout."""


class Unimplemented(RecurrentError):
    """UNIMPLEMENTED: the server does not implement this call."""


class Internal(RecurrentError):
    """INTERNAL: the server failed; details are in its log."""


class Unauthenticated(RecurrentError):
    """UNAUTHENTICATED: no API key, or an unknown or revoked one."""


class PermissionDenied(RecurrentError):
    """PERMISSION_DENIED: the API key's role does not allow this call."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
}


def from_rpc_error(error):
    """Converts a grpc.RpcError into the matching RecurrentError subclass."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else None) or ""
    violations = ()
    details = ErrorDetails()
    metadata = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in metadata or ():
        if key == "grpc-status-details-bin":
            violations = bad_request_violations(value)
            details = error_details(value)
    return _BY_CODE.get(code, RecurrentError)(code, message, violations, details)


class ErrorDetails:
    """The google.rpc.ErrorInfo and RetryInfo of an error (see RecurrentError)."""

    def __init__(self, reason=None, domain=None, metadata=None, retry_delay=None):
        self.reason = reason
        self.domain = domain
        self.metadata = metadata or {}
        self.retry_delay = retry_delay


def error_details(status_bytes):
    """The ErrorInfo and RetryInfo details in a serialized google.rpc.Status,
    decoded by hand like bad_request_violations; empty for anything it cannot
    read."""
    details = ErrorDetails()
    try:
        for type_url, value in _any_details(status_bytes):
            if type_url == _ERROR_INFO_TYPE:
                for number, field in _wire_fields(value):
                    if number == 1:
                        details.reason = bytes(field).decode()
                    elif number == 2:
                        details.domain = bytes(field).decode()
                    elif number == 3:  # map<string, string>: entries
                        entry = dict(_wire_fields(field))
                        details.metadata[bytes(entry.get(1, b"")).decode()] = (
                            bytes(entry.get(2, b"")).decode())
            elif type_url == _RETRY_INFO_TYPE:
                delay = dict(_wire_fields(dict(_wire_fields(value)).get(1, b"")))
                details.retry_delay = delay.get(1, 0) + delay.get(2, 0) / 1e9
    except (ValueError, IndexError, UnicodeDecodeError, TypeError):
        return ErrorDetails()
    return details


def _any_details(status_bytes):
    """Yields (type URL, value bytes) of each google.protobuf.Any in
    google.rpc.Status.details."""
    for number, detail in _wire_fields(status_bytes):
        if number != 3:  # Status.details: repeated google.protobuf.Any
            continue
        any_fields = dict(_wire_fields(detail))
        yield bytes(any_fields.get(1, b"")).decode(), any_fields.get(2, b"")


def bad_request_violations(status_bytes):
    """The (field, description) pairs of the google.rpc.BadRequest details
    in a serialized google.rpc.Status (the grpc-status-details-bin trailer).

    Decoded by hand from the wire format so that no googleapis package is
    needed; returns [] for anything it cannot read.
    """
    violations = []
    try:
        for type_url, value in _any_details(status_bytes):
            if type_url != _BAD_REQUEST_TYPE:
                continue
            for vnumber, violation in _wire_fields(value):
                if vnumber != 1:  # BadRequest.field_violations
                    continue
                fields = dict(_wire_fields(violation))
                violations.append((bytes(fields.get(1, b"")).decode(),
                                   bytes(fields.get(2, b"")).decode()))
    except (ValueError, IndexError, UnicodeDecodeError, TypeError):
        return []
    return violations


def _varint(data, i):
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _wire_fields(data):
    """Yields (field number, value) of a serialized message; length-delimited
    values as bytes, varints as int."""
    data = bytes(data)
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = _varint(data, i)
        elif wire_type == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise ValueError("truncated field")
            value, i = data[i:i + size], i + size
        elif wire_type == 1:
            value, i = data[i:i + 8], i + 8
        elif wire_type == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        yield number, value
