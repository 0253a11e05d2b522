"""The forms of the officials' management pages. They check types and sizes only: the rules
(https, public addresses, known events and regions) are the services', reported per field, so a
page and the API refuse the same input with the same words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from handover.models import WebhookEvent, WebhookSubscription


class EventsField(forms.MultipleChoiceField):
    """The events offered as boxes to tick; an unknown one is refused by the service, beside
    every other fault of the form, not here alone."""

    def valid_value(self, value: Any) -> bool:
        return True


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Receiving system"), max_length=200, required=False)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        required=False,
        help_text=_("Where deliveries are sent, for example https://portal.example.cn/hooks."),
        widget=forms.TextInput(
            attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    event_types = EventsField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    region = forms.CharField(
        label=_("Region code"),
        max_length=12,
        required=False,
        help_text=_(
            "Only trips from or entering through this province, city or county (GB/T 2260 "
            "code); empty for all."
        ),
    )
    active = forms.BooleanField(
        label=_("Active: receives new events"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required by the service, which says so beside every other fault of the form, not by
        # the form alone: the page does not mark them "optional".
        for name in ("name", "url", "event_types"):
            self.fields[name].conditional = True  # type: ignore[attr-defined]

    @classmethod
    def of(cls, subscription: WebhookSubscription, **kwargs: Any) -> SubscriptionForm:
        """The form filled with the subscription as it is."""
        return cls(
            initial={
                "name": subscription.name,
                "url": subscription.url,
                "event_types": subscription.event_types,
                "region": subscription.region_id or "",
                "active": subscription.active,
            },
            **kwargs,
        )

    def values(self) -> dict[str, Any]:
        """What the service is given (``handover.subscriptions.SUBSCRIPTION_FIELDS``)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "url": data["url"],
            "event_types": list(data["event_types"]),
            "region": data["region"].strip() or None,
            "active": bool(data["active"]),
        }
