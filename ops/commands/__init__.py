"""Importing this package registers every `childsafe` subcommand."""

from ops.commands import contracts_cmd, kafka_cmd, sandbox_cmd, topics_cmd  # noqa: F401
from ops.commands import directory_cmd, sms_cmd  # noqa: F401
