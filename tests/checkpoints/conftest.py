from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def staff(checkpoint: Any) -> Any:
    from tests.factories import staff_user

    return staff_user(checkpoint)


@pytest.fixture
def staff_client(api_client: Any, staff: Any) -> Any:
    api_client.force_authenticate(staff)
    return api_client
