"""Conversions between Python values and the recurrent.v1 protobuf messages.

- Times: timezone-aware ``datetime`` (any zone, sent as UTC) or ``date``
  (midnight UTC) or an ISO 8601 string with an offset ("2025-03-01T00:00:00Z")
  in; aware UTC ``datetime`` out. Naive datetimes are refused rather than
  guessed. Timestamps carry nanoseconds; datetimes keep microseconds.
- Enums: short names in and out ("PAST_DUE", "AUTO_CHURN", "SUBSCRIPTION");
  in, case and "-" versus "_" do not matter ("past-due"), and full names
  ("SUBSCRIPTION_STATUS_PAST_DUE") and numbers are accepted too.
- Messages come back as ``Record``: a read-only view with those conversions.
"""

import datetime as _dt
import re

from google.protobuf import timestamp_pb2

__all__ = ["UTC", "to_timestamp", "to_datetime", "enum_number", "enum_name", "Record"]

UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)


def to_timestamp(value):
    """A google.protobuf.Timestamp for an aware datetime, a date (midnight
    UTC), an ISO 8601 string with an offset, or a Timestamp."""
    if isinstance(value, timestamp_pb2.Timestamp):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not an ISO 8601 time: %r" % (value,)) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime %s: give a timezone, e.g. "
                             "tzinfo=datetime.timezone.utc" % value.isoformat())
        delta = value - _EPOCH
    elif isinstance(value, _dt.date):
        delta = _dt.datetime(value.year, value.month, value.day, tzinfo=UTC) - _EPOCH
    else:
        raise TypeError("expected a datetime, date or ISO 8601 string, got %r" % (value,))
    seconds = delta.days * 86400 + delta.seconds
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=delta.microseconds * 1000)


def to_datetime(timestamp):
    """An aware UTC datetime for a Timestamp (None for None)."""
    if timestamp is None:
        return None
    return _EPOCH + _dt.timedelta(seconds=timestamp.seconds,
                                  microseconds=timestamp.nanos // 1000)


def _prefix(enum_descriptor):
    # SubscriptionStatus -> "SUBSCRIPTION_STATUS_"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_descriptor.name).upper() + "_"


def enum_name(enum_descriptor, number):
    """The short name of an enum value: SUBSCRIPTION_STATUS_PAST_DUE -> "PAST_DUE"."""
    value = enum_descriptor.values_by_number.get(number)
    if value is None:
        return number  # a value newer than these stubs
    prefix = _prefix(enum_descriptor)
    return value.name[len(prefix):] if value.name.startswith(prefix) else value.name


def enum_number(enum_descriptor, value):
    """The number of an enum value given as a short or full name or a number."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    key = str(value).strip().upper().replace("-", "_")
    by_name = enum_descriptor.values_by_name
    for name in (key, _prefix(enum_descriptor) + key):
        if name in by_name:
            return by_name[name].number
    choices = ", ".join(enum_name(enum_descriptor, v.number)
                        for v in enum_descriptor.values if v.number)
    raise ValueError("unknown %s %r; one of %s" % (enum_descriptor.name, value, choices))


class Record:
    """A read-only view of a protobuf message with Python values.

    Attribute access follows the message's fields:
      - Timestamp fields are aware UTC datetimes, or None when unset;
      - enum fields are short names ("ACTIVE", "PAST_DUE", "AUTO_CHURNED");
      - ``optional`` scalars are None when unset;
      - other message fields are Records; repeated fields are lists.
    ``record.proto`` is the underlying message; ``to_dict()`` converts it all.
    """

    __slots__ = ("_proto",)

    def __init__(self, proto):
        object.__setattr__(self, "_proto", proto)

    @property
    def proto(self):
        """The underlying protobuf message."""
        return self._proto

    def __getattr__(self, name):
        if name.startswith("_"):  # e.g. _proto before __init__ (copy, pickle)
            raise AttributeError(name)
        field = self._proto.DESCRIPTOR.fields_by_name.get(name)
        if field is None:
            raise AttributeError("%s has no field %r" % (self._proto.DESCRIPTOR.name, name))
        return _field_value(self._proto, field)

    def __setattr__(self, name, value):
        raise AttributeError("Record is read-only; build a request instead")

    def __dir__(self):
        return ["proto", "to_dict"] + list(self._proto.DESCRIPTOR.fields_by_name)

    def __eq__(self, other):
        return isinstance(other, Record) and self._proto == other._proto

    __hash__ = None

    def __getstate__(self):
        return self._proto

    def __setstate__(self, proto):
        object.__setattr__(self, "_proto", proto)

    def to_dict(self):
        """Every field (set or not) as plain Python values, nested."""
        return {name: _plain(getattr(self, name))
                for name in self._proto.DESCRIPTOR.fields_by_name}

    def __repr__(self):
        parts = []
        for field, _ in self._proto.ListFields():
            parts.append("%s=%r" % (field.name, getattr(self, field.name)))
        return "%s(%s)" % (self._proto.DESCRIPTOR.name, ", ".join(parts))


def _is_timestamp(field):
    return field.message_type is not None and \
        field.message_type.full_name == "google.protobuf.Timestamp"


def _single(field, value):
    if field.enum_type is not None:
        return enum_name(field.enum_type, value)
    if _is_timestamp(field):
        return to_datetime(value)
    if field.message_type is not None:
        return Record(value)
    return value


def _field_value(message, field):
    value = getattr(message, field.name)
    if field.label == field.LABEL_REPEATED:
        return [_single(field, v) for v in value]
    if field.message_type is not None:
        if _is_timestamp(field) and not message.HasField(field.name):
            return None
        return _single(field, value)
    if field.containing_oneof is not None and not message.HasField(field.name):
        return None  # proto3 `optional` (or oneof) scalar, unset
    return _single(field, value)


def _plain(value):
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
