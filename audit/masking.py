def mask_value(value: str) -> str:
    """What the change log keeps of a personal field: that it changed, never its value.

    (auditlog's default mask keeps the second half of the value: half a phone number is still
    personal data.)
    """
    return "[masked]"
