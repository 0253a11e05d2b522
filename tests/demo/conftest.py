"""The checkpoint tests' fixtures: scans need fresh process caches and a staff account."""

from tests.checkpoints.conftest import _fresh_caches, staff, staff_client  # noqa: F401
