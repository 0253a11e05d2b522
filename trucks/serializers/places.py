"""Serializers of the reference reads: regions and their risk levels, consignees, the public
keys."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from places.models import Region, RiskLevel
from trucks.serializers.fields import choices_help


class RegionFilterSerializer(serializers.Serializer[Any]):
    # The metaclass moves declared fields off the class, so this does not clash at run time
    # with Field.parent (the enclosing serializer); mypy sees only the names.
    parent = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=12, help_text="Parent region code."
    )
    level = serializers.ChoiceField(choices=Region.Level.choices, required=False)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    q = serializers.CharField(required=False, max_length=50, help_text="Name or code prefix.")


class RegionRiskInputSerializer(serializers.Serializer[Any]):
    risk_level = serializers.CharField(max_length=16, help_text=choices_help(RiskLevel.choices))


class RegionOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    full_name = serializers.CharField()
    level = serializers.ChoiceField(choices=Region.Level.choices)
    parent = serializers.CharField(  # type: ignore[assignment]  # see RegionFilterSerializer
        source="parent_id", allow_null=True
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    risk_changed_at = serializers.DateTimeField(allow_null=True)


class ConsigneeOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class JwksKeySerializer(serializers.Serializer[Any]):
    kty = serializers.CharField()
    crv = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    kid = serializers.CharField()
    x = serializers.CharField(help_text="The raw public key, base64url without padding.")
    active = serializers.BooleanField(help_text="Whether new tokens are signed with this key.")


class KeysOutputSerializer(serializers.Serializer[Any]):
    keys = JwksKeySerializer(many=True)
    token_format = serializers.CharField()
