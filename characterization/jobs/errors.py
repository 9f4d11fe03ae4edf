"""What can go wrong in a job besides the data: transient errors (retried) and a lost claim."""

from __future__ import annotations

import redis.exceptions
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

# Errors that go away by themselves (database or broker briefly unreachable): retried.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    BrokerOperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
)


class JobLost(Exception):
    """The job was cancelled or taken over by another run while this one worked on it."""


class JobDataError(Exception):
    """The job cannot succeed with this input; the message is shown to the chemist."""
