"""The forms of the officials' management pages: a webhook subscription, a new risk level for the
regions an official chose, and the next policy version. They check types and sizes only: the
rules (https, public addresses, known events and regions, the policy's limits) are the
services', reported per field, so a page and the API refuse the same input with the same
words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from handover.models import WebhookEvent, WebhookSubscription
from passcode_portal.fieldtext import form_messages
from places.models import Region, RiskLevel
from trucks import services
from trucks.models import Policy
from trucks.services.regions import MAX_REASON

# What an official edits in a policy version, in the model's order; the note says why.
POLICY_EDITABLE: tuple[str, ...] = tuple(name for name in services.POLICY_FIELDS if name != "note")


class RegionFilters(forms.Form):
    """The list's search and filters; nonsense in a filter is ignored, not an error."""

    q = forms.CharField(label=_("Name or code"), max_length=64, required=False)
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", _("All levels")), *Region.Level.choices], required=False
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level"),
        choices=[("", _("All risk levels")), *RiskLevel.choices],
        required=False,
    )

    def chosen(self) -> dict[str, str]:
        if not self.is_valid():
            return {"q": "", "level": "", "risk_level": ""}
        return {name: str(self.cleaned_data[name]).strip() for name in self.fields}


class RegionChangeForm(forms.Form):
    """The new level for the regions ticked in the list (posted as ``regions``, checked by
    ``services.regions_chosen``)."""

    risk_level = forms.ChoiceField(
        label=_("New risk level"),
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the new risk level."),
            "invalid_choice": _("Choose low, medium or high."),
        },
    )
    below = forms.BooleanField(
        label=_("Also every region below those chosen"),
        required=False,
        help_text=_(
            "A city with all its counties, a province with all its cities and counties: each "
            "gets this level, so lowering it later lowers them all."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON,
        error_messages=form_messages(_("reason")),
        help_text=_("Kept in the history with your name, for example the notice it follows."),
    )


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    """Every setting of the next version, with the model's labels and help texts, and a note
    saying why it is published."""

    class Meta:
        model = Policy
        fields = [*POLICY_EDITABLE, "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        note = self.fields["note"]
        note.required = True
        note.label = _("Note")
        note.help_text = _(
            "Why this version is published; shown in the list of versions, with your name."
        )
        note.error_messages = form_messages(_("note"))
        for name in POLICY_EDITABLE:
            field = self.fields[name]
            if isinstance(field, forms.IntegerField):
                # A text box with the phone's number pad, styled as every other input.
                field.widget = forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"})
            # The model's own words, lower-case, to sit inside the message's sentence.
            label = Policy._meta.get_field(name).verbose_name  # type: ignore[union-attr]
            field.error_messages = {
                **field.error_messages,
                **form_messages(label),
                "invalid_choice": format_lazy(
                    _("The {field} is not one of the choices."), field=label
                ),
            }


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
