"""Provisioning of what Souk services stand on, usable with or without Kubernetes.

The local stack and the kopf operator both call these: :mod:`.plan` computes names,
passwords, stream plans and connection settings as pure functions; :mod:`.postgres` and
:mod:`.streams` converge a PostgreSQL server and a Redis on that plan, idempotently, and
raise :class:`TemporaryProvisioningError` (retry with back-off) or
:class:`PermanentProvisioningError` (the message says what to fix).
"""

from souk_common.provisioning.plan import (
    InvalidNameError,
    PermanentProvisioningError,
    ProvisioningError,
    ProvisionResult,
    ServiceCredentials,
    StreamGroup,
    TemporaryProvisioningError,
    database_name,
    dead_letter_streams,
    desired_streams,
    generate_password,
    marketplace_stream_keys,
    redact_dsn,
    scram_sha256_matches,
    scram_sha256_verifier,
    service_credentials,
    validate_identifier,
)
from souk_common.provisioning.postgres import (
    DatabaseStatus,
    describe_service_database,
    drop_service_database,
    ensure_service_database,
)
from souk_common.provisioning.streams import drop_streams, ensure_streams, missing_groups

__all__ = [
    "DatabaseStatus",
    "InvalidNameError",
    "PermanentProvisioningError",
    "ProvisionResult",
    "ProvisioningError",
    "ServiceCredentials",
    "StreamGroup",
    "TemporaryProvisioningError",
    "database_name",
    "dead_letter_streams",
    "describe_service_database",
    "desired_streams",
    "drop_service_database",
    "drop_streams",
    "ensure_service_database",
    "ensure_streams",
    "generate_password",
    "marketplace_stream_keys",
    "missing_groups",
    "redact_dsn",
    "scram_sha256_matches",
    "scram_sha256_verifier",
    "service_credentials",
    "validate_identifier",
]
