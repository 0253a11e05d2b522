"""The offline bundle's answer (``GET /api/v1/checkpoints/{code}/bundle/``), which
``checkpoints.bundle`` builds as plain values: documented here."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class BundleCheckpointSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The id rows name in entry_checkpoint.")
    code = serializers.CharField()


class BundlePolicySerializer(serializers.Serializer[Any]):
    strict_checkpoint = serializers.BooleanField(
        help_text="Refuse, instead of warn, a pass registered for another checkpoint."
    )
    offline_max_age_minutes = serializers.IntegerField(
        help_text="Warn staff once the bundle the tablet holds is older than this."
    )


class BundleKeySerializer(serializers.Serializer[Any]):
    kid = serializers.CharField(help_text="The key id a token carries in its first byte.")
    x = serializers.CharField(help_text="The raw 32-byte Ed25519 public key, base64url.")
    active = serializers.BooleanField(help_text="The key signing new tokens.")


class BundleOutputSerializer(serializers.Serializer[Any]):
    """Documents the bundle (``checkpoints.bundle``), which the view builds as plain values."""

    format = serializers.IntegerField(help_text="The bundle's layout: 1.")
    full = serializers.BooleanField(
        help_text="True: replace the rows held. False: a delta, upsert these rows by id."
    )
    cursor = serializers.CharField(help_text="Opaque: send it as since at the next sync.")
    generated_at = serializers.DateTimeField()
    server_time_ms = serializers.IntegerField(
        help_text="The server's clock in ms since the epoch, for the tablet's clock offset."
    )
    checkpoint = BundleCheckpointSerializer()
    policy = BundlePolicySerializer()
    keys = BundleKeySerializer(many=True)
    max_pass_id = serializers.IntegerField(
        help_text=(
            "The highest pass id at generation time: a well-signed token for a pass not in the "
            "bundle was issued after the sync if its id is above this, else there is no such pass."
        )
    )
    # ``fields`` is the serializer's own attribute; the field is declared below under its name.
    passes = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text=(
            "One row per pass, its values in the order of fields: id, colour, pass status, "
            "valid_from and valid_until (seconds since the epoch), trip status, plate, persons "
            "expected (driver and co-riders), multi_entry, entry_checkpoint (its id), the trip "
            "reference, priority_lane."
        ),
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["fields"] = serializers.ListField(
            child=serializers.CharField(), help_text="The names of each row's values, in order."
        )
        return fields
