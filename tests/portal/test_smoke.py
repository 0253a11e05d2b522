import pytest

from places.models import Region


@pytest.mark.django_db
def test_the_seed_regions_are_loaded() -> None:
    names = dict(
        Region.objects.filter(
            code__in=["410800", "320400", "320412", "140400", "140427", "152501"]
        ).values_list("code", "name")
    )
    assert names == {
        "410800": "焦作市",
        "320400": "常州市",
        "320412": "武进区",
        "140400": "长治市",
        "140427": "壶关县",
        "152501": "二连浩特市",
    }
    assert 3000 < Region.objects.count() < 3600
