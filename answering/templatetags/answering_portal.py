"""Translated labels of the answering desk's states, for the portal's templates (the models'
choice labels are English only, for the admin)."""

from django import template

from answering.portal.forms import (
    CALL_STATUS_LABELS,
    DISPOSITION_LABELS,
    MESSAGE_STATUS_LABELS,
    TRANSFER_STATE_LABELS,
    TRANSFER_TARGET_LABELS,
    URGENCY_LABELS,
)

register = template.Library()


@register.filter
def message_status(value):
    return MESSAGE_STATUS_LABELS.get(value, value)


@register.filter
def urgency(value):
    return URGENCY_LABELS.get(value, value)


@register.filter
def call_status(value):
    return CALL_STATUS_LABELS.get(value, value)


@register.filter
def disposition(value):
    return DISPOSITION_LABELS.get(value, value)


@register.filter
def transfer_state(value):
    return TRANSFER_STATE_LABELS.get(value, value)


@register.filter
def transfer_target(value):
    return TRANSFER_TARGET_LABELS.get(value, value)
