"""The checkpoint tests' fixtures: a staff account, and an API client signed in as it."""

from tests.checkpoints.conftest import staff, staff_client  # noqa: F401
