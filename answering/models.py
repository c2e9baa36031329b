"""The answering desk's records, in each client company's schema."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from gates.engine import gate_objects
from gates.managers import GatedGroupObjectPermissionManager, GatedManager, GatedUserObjectPermissionManager
from tenants.categories import categorised_cells, derived, not_personal, personal_data
from tenants.crypto import encrypt
from tenants.files import stored_files


def validate_e164(value: str) -> None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"'{value}' is not a phone number in E.164 form, such as +3725551234") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise ValidationError(f"'{value}' is not a valid phone number in E.164 form, such as +3725551234")


# The shortest wait before an urgent message escalates: the broker's visibility_timeout is shorter,
# so a killed worker's notice is handed out again before the next person on call is due.
URGENT_ACK_MIN_MINUTES = 5
SECRET_QUERY_WORDS = ("token", "key", "secret", "password", "passwd", "pwd", "auth", "session", "credential")


def validate_https(value: str) -> None:
    """An https link, and only a link: no user:password@, no token-like query parameters."""
    from urllib.parse import parse_qs, urlsplit

    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError(f"'{value}' must be an https:// URL")
    if parts.username or parts.password:
        raise ValidationError("the URL must not carry credentials (user:password@)")
    for name in parse_qs(parts.query):
        if any(word in name.lower() for word in SECRET_QUERY_WORDS):
            raise ValidationError(f"the URL must not carry a credential ('{name}' in its query)")


class Line(models.Model):
    """A client company's answering line: the phone number its callers dial.

    A business number, not personal data. Lines are the coarse objects that agents are granted
    (guardian's `answering.view_line` on the line); the calls on a line inherit its grants.
    """

    class RecordingPolicy(models.TextChoices):
        OFF = "off", "Do not record"
        ANNOUNCE = "announce", "Announce, then record"
        ASK_CONSENT = "ask_consent", "Ask the caller's consent, record only if given"

    class AfterHours(models.TextChoices):
        VOICEMAIL = "voicemail", "Voicemail"
        MESSAGE_ONLY = "message_only", "Agents take a message (message-only script)"
        FORWARD_ONCALL = "forward_oncall", "Forward to the person on call"

    name = models.CharField(max_length=120)
    phone_number = models.CharField(max_length=20, validators=[validate_e164])
    greeting = models.TextField(blank=True)
    recording_policy = models.CharField(max_length=12, choices=RecordingPolicy.choices, default=RecordingPolicy.OFF)
    disclosure = models.TextField(
        default="This call may be recorded to make sure we pass on your message correctly.",
        help_text="Played before any recording",
    )
    after_hours = models.CharField(max_length=16, choices=AfterHours.choices, default=AfterHours.VOICEMAIL)
    voicemail_max_seconds = models.PositiveIntegerField(default=120)
    answer_target_seconds = models.PositiveIntegerField(default=20, help_text="Service level: answered within")
    urgent_ack_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(URGENT_ACK_MIN_MINUTES)],
        help_text=f"Minutes ({URGENT_ACK_MIN_MINUTES} at least) before an unacknowledged urgent message escalates",
    )
    # The ACD queue (desk/): in business hours a call waits for an agent who holds a grant on the
    # line (and speaks `queue_language`), by `queue_priority`, for at most `queue_max_wait_seconds`.
    queue_priority = models.SmallIntegerField(default=0, help_text="Queue priority: higher lines are answered first")
    queue_language = models.CharField(
        max_length=8, blank=True, help_text="Offer calls only to agents who speak this language (et, en, …)"
    )
    queue_hold_message = models.CharField(
        max_length=300, default="All our agents are busy. Please hold.", help_text="Said to a caller while they wait"
    )
    queue_max_wait_seconds = models.PositiveIntegerField(default=120, help_text="Longest wait in the queue")
    queue_overflow = models.CharField(
        max_length=16,
        choices=AfterHours.choices,
        default=AfterHours.VOICEMAIL,
        help_text="Past the longest wait: voicemail, the message-only script (the next free agent), or on call",
    )
    is_support_line = models.BooleanField(default=False)
    remote_support_url = models.URLField(
        blank=True, validators=[validate_https], help_text="Hand-offs carry a link to this tool, never a credential"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        ordering = ["name"]
        # A constraint, not `unique=True`: that adds a second, `varchar_pattern_ops` index for LIKE
        # 'prefix%', which nothing here asks (docs/performance.md, relations per company).
        constraints = [models.UniqueConstraint(fields=["phone_number"], name="line_phone_number_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})"


class BusinessHours(models.Model):
    """When a line is answered live, as wall-clock time in the company's zone."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday")
    opens = models.TimeField()
    closes = models.TimeField()

    objects = GatedManager()

    class Meta:
        ordering = ["line", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")), name="hours_close_after_open"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.line} day {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class LineUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK grants on lines: generic-FK lookups are slow at scale (guardian #68, #811)."""

    # Its index is the unique (user, permission, content_object), which leads with the user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Line, on_delete=models.CASCADE)

    objects = GatedUserObjectPermissionManager()


class LineGroupObjectPermission(GroupObjectPermissionBase):
    # Its index is the unique (group, permission, content_object), which leads with the group.
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Line, on_delete=models.CASCADE)

    objects = GatedGroupObjectPermissionManager()


class Script(models.Model):
    """A line's call script. Its content lives in versions; calls remember the version they used."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="scripts")
    name = models.CharField(max_length=120)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"{self.name} ({self.line.name})"


class ScriptVersion(models.Model):
    """Ordered steps: a prompt, then questions mapped to message or contact fields, and so to
    data categories. Published versions are immutable (a database trigger refuses changes)."""

    # Its index is script_version_unique's, which leads with the script.
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions", db_index=False)
    number = models.PositiveIntegerField()
    steps = models.JSONField(default=list)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        ordering = ["script", "-number"]
        constraints = [models.UniqueConstraint(fields=["script", "number"], name="script_version_unique")]

    def __str__(self) -> str:
        return f"{self.script.name} v{self.number}"


class RecordingConsent(models.TextChoices):
    NOT_RECORDED = "not_recorded", "Not recorded"
    ANNOUNCED = "announced", "Recording announced"
    GIVEN = "given", "Consent given (keypad)"
    REFUSED = "refused", "Consent refused"


class Disposition(models.TextChoices):
    MESSAGE_TAKEN = "message_taken", "Message taken"
    APPOINTMENT = "appointment", "Appointment booked"
    INFO_GIVEN = "info_given", "Information given"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    HUNG_UP = "hung_up", "Caller hung up"
    TRANSFERRED = "transferred", "Transferred"


class Call(models.Model):
    """An inbound or outbound call on a line. The answering-desk issue adds its workflow."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        MISSED = "missed", "Missed"

    # Its index is call_line_newest, which leads with the line.
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="calls", db_index=False)
    telephony_sid = models.CharField("telephony id", max_length=64)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    started_at = models.DateTimeField()
    caller_number = encrypt(models.CharField(max_length=20, blank=True))
    caller_name = encrypt(models.CharField(max_length=200, blank=True))
    notes = encrypt(models.TextField(blank=True))
    contact = models.ForeignKey("crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_consent = models.CharField(
        max_length=12, choices=RecordingConsent.choices, default=RecordingConsent.NOT_RECORDED
    )
    anonymised_at = models.DateTimeField(null=True, blank=True, help_text="Caller details purged by retention")
    # Keyed per company (never the number itself): lets statistics count repeat callers.
    caller_pseudonym = models.CharField(max_length=64, blank=True)  # counted per line and day: no index needed
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    agent = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    script_version = models.ForeignKey(
        ScriptVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )

    objects = GatedManager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Every call list's default order, newest first, with and without a line filter.
            models.Index(fields=["-started_at", "-id"], name="call_newest"),
            # It also serves every `line_id = ...` lookup, so the foreign key has no index of its own.
            models.Index(fields=["line", "-started_at", "-id"], name="call_line_newest"),
        ]
        # No index covers a column the retention purge changes (not even in a partial index's
        # predicate), and migration 0052 leaves room on each page, so its updates are HOT.
        # The webhook's `ON CONFLICT (telephony_sid)` needs it (answering/telephony.py).
        constraints = [models.UniqueConstraint(fields=["telephony_sid"], name="call_telephony_sid_unique")]

    def __str__(self) -> str:
        # Shown in breadcrumbs, history and delete pages: never a personal value.
        return f"Call {self.telephony_sid}"

    def save(self, *args, **kwargs):
        # A derived column, kept in step with the number on every write path.
        from django.db import connection

        from crm.blind_index import pseudonym

        if "caller_number" in self.get_deferred_fields():
            # Not loaded (withheld from the person saving), so not written either: the pseudonym
            # stays as it is.
            super().save(*args, **kwargs)
            return
        self.caller_pseudonym = pseudonym(self.caller_number, schema=connection.schema_name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "caller_pseudonym"}
        super().save(*args, **kwargs)


class Message(models.Model):
    """A message an agent took for the client company.

    Delivery: pending -> sent -> delivered -> read -> acknowledged, or failed after retries. An
    urgent message not acknowledged within its line's deadline escalates along the on-call rota.
    """

    class Urgency(models.TextChoices):
        URGENT = "urgent", "Urgent"
        NORMAL = "normal", "Normal"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FAILED = "failed", "Failed"

    # Its index is message_line_newest, which leads with the line.
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="messages", db_index=False)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    contact = models.ForeignKey("crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    caller_name = encrypt(models.CharField(max_length=200, blank=True))
    caller_number = encrypt(models.CharField(max_length=20, blank=True))
    body = encrypt(models.TextField(blank=True))
    # Support lines: what the support script collects, and nothing personal.
    ticket_reference = models.CharField(max_length=64, blank=True)
    technical_details = models.TextField(blank=True)
    # Answers to script questions that target no message field: {key: {label, category, value}}.
    answers = encrypt(models.TextField(blank=True, default=""))
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.PENDING)
    taken_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="Body and answers purged by retention")

    objects = GatedManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # It also serves every `line_id = ...` lookup, so the foreign key has no index of its own.
            models.Index(fields=["line", "-created_at", "-id"], name="message_line_newest"),
            models.Index(fields=["-created_at", "-id"], name="message_newest"),
        ]
        # As for calls: nothing indexed changes when the purge blanks a message, so it is HOT.

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class DeliveryRoute(models.Model):
    """Where a line's messages go, by which channel, with which fields (the client's choice)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="delivery_routes")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    address = encrypt(models.CharField(max_length=254))
    include_caller_name = models.BooleanField(default=True)
    include_caller_number = models.BooleanField(default=True)
    include_body = models.BooleanField(default=True)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"Route #{self.pk} ({self.channel})"


class WebhookEndpoint(models.Model):
    """The client's own system (or CRM) that receives its messages as signed JSON."""

    url = models.URLField(max_length=500, validators=[validate_https])
    secret = encrypt(models.CharField(max_length=128))
    active = models.BooleanField(default=True)
    include_caller_name = models.BooleanField(default=True)
    include_caller_number = models.BooleanField(default=True)
    include_body = models.BooleanField(default=True)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"Webhook #{self.pk}"


class DeliveryAttempt(models.Model):
    """One delivery of a message (or an escalation of it) to one recipient, keyed by what it delivers
    so that a redelivered task resumes it. Its states move under a row lock (answering/services/
    attempts.py): pending -> sending -> sent, or failed (tried again) and, after a webhook's last
    try, dead-lettered."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (to be tried again)"
        REFUSED = "refused", "Refused: not sent (the address, or the DPA, does not allow it)"
        DEAD_LETTER = "dead_letter", "Dead-lettered (every retry failed)"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        WEBHOOK = "webhook", "Webhook"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    route = models.ForeignKey(DeliveryRoute, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    webhook = models.ForeignKey(WebhookEndpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    escalation_level = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    key = models.CharField(max_length=120, help_text="Idempotency: one send per message event")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    tries = models.PositiveSmallIntegerField(default=0, help_text="Sends begun on this attempt")
    provider_id = models.CharField(max_length=200, blank=True, help_text="Twilio's SID, the e-mail's Message-ID")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the state last moved: a `sending` attempt older than DELIVERY_SENDING_TIMEOUT was cut off.
    updated_at = models.DateTimeField(auto_now=True)

    objects = GatedManager()

    class Meta:
        ordering = ["message", "created_at"]
        constraints = [models.UniqueConstraint(fields=["key"], name="delivery_attempt_key_unique")]

    def __str__(self) -> str:
        return f"Attempt #{self.pk}: {self.status}"


class Voicemail(models.Model):
    """A message left after hours. The audio is an encrypted file (never on disk in the clear)."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="voicemail")
    recording_sid = models.CharField(max_length=64)
    audio = models.CharField(max_length=200, help_text="Storage name of the encrypted audio")
    audio_bytes = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)
    transcription = encrypt(models.TextField(blank=True))
    transcription_purged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        indexes = [models.Index(fields=["-created_at", "-id"], name="voicemail_newest")]
        constraints = [models.UniqueConstraint(fields=["recording_sid"], name="voicemail_recording_sid_unique")]

    def __str__(self) -> str:
        return f"Voicemail {self.recording_sid}"


class Recording(models.Model):
    """A live call's recording, kept with the evidence that the caller was told or agreed."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="recordings")
    recording_sid = models.CharField(max_length=64)
    audio = models.CharField(max_length=200)
    audio_bytes = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)
    consent_evidence = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recording_sid"], name="recording_recording_sid_unique")]

    def __str__(self) -> str:
        return f"Recording {self.recording_sid}"


class Listen(models.Model):
    """Who played which voicemail or recording, and when."""

    voicemail = models.ForeignKey(Voicemail, on_delete=models.CASCADE, null=True, blank=True, related_name="listens")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, null=True, blank=True, related_name="listens")
    user = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"Listen #{self.pk}"


class Transfer(models.Model):
    """A warm transfer of a live call (answering/services/transfer.py): the caller waits in a
    conference while the agent dials the person on call or the number the script names, announces
    the caller, and either bridges them and leaves, or returns to the caller (who then leaves a
    message). One open transfer per call; the number dialled is personal data, encrypted."""

    class Target(models.TextChoices):
        ONCALL = "oncall", "The person on call"
        NUMBER = "number", "The number the script names"

    class State(models.TextChoices):
        DIALLING = "dialling", "Dialling"
        ANNOUNCING = "announcing", "Announcing the caller"
        BRIDGED = "bridged", "Bridged: the caller is through"
        RETURNED = "returned", "Returned to the caller"
        FAILED = "failed", "Failed: back with the caller"

    OPEN_STATES = (State.DIALLING, State.ANNOUNCING)

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transfers")
    agent = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    target_kind = models.CharField(max_length=8, choices=Target.choices)
    target_number = encrypt(models.CharField(max_length=20, blank=True))
    state = models.CharField(max_length=12, choices=State.choices, default=State.DIALLING)
    # Twilio's names for the legs: the conference (our name, and Twilio's CF sid), the agent's and
    # the dialled person's calls. Ids, not personal data.
    conference_name = models.CharField(max_length=64)
    conference_sid = models.CharField(max_length=64, blank=True)
    agent_call_sid = models.CharField(max_length=64, blank=True)
    target_call_sid = models.CharField(max_length=64, blank=True)
    failure = models.CharField(max_length=300, blank=True, help_text="Why it failed, with no number in it")
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = GatedManager()

    class Meta:
        ordering = ["call", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["call"], condition=models.Q(state__in=["dialling", "announcing"]), name="transfer_one_open"
            ),
            models.UniqueConstraint(fields=["conference_name"], name="transfer_conference_name_unique"),
        ]

    def __str__(self) -> str:
        return f"Transfer #{self.pk}: {self.state}"


personal_data(
    Call,
    caller_number="user.contact.phone_number",
    caller_name="user.contact.name",
    notes="user.content.private",
)
not_personal(Line, "name", "phone_number", reason="the client company's own business line")
not_personal(Line, "voicemail_max_seconds", reason="a setting")
# The audio columns hold storage names of encrypted files; the category gates playback.
personal_data(Voicemail, audio="user.biometrics.voice", transcription="user.content.private")
personal_data(Recording, audio="user.biometrics.voice")
stored_files(Voicemail, "audio")
stored_files(Recording, "audio")
personal_data(
    Message,
    caller_name="user.contact.name",
    caller_number="user.contact.phone_number",
    body="user.content.private",
    answers="user.content.private",
)
gate_objects(Script, through="line")
not_personal(Script, "name", reason="the name of a call script")
gate_objects(ScriptVersion, through="script")
personal_data(DeliveryRoute, address="user.contact.email")
not_personal(DeliveryRoute, "include_caller_name", "include_caller_number", "include_body", reason="settings")
gate_objects(Message, through="line")
gate_objects(DeliveryRoute, through="line")
not_personal(
    Message,
    "ticket_reference",
    "technical_details",
    reason="a support ticket's reference and the technical description; the support script asks for no personal data",
)
not_personal(WebhookEndpoint, "include_caller_name", "include_caller_number", "include_body", reason="settings")
gate_objects(DeliveryAttempt, through="message")
not_personal(Voicemail, "audio_bytes", reason="a size")
not_personal(Recording, "audio_bytes", reason="a size")
personal_data(Call, caller_pseudonym="user.contact.phone_number")
derived(Call, "caller_pseudonym", reason="a keyed pseudonym of the number, for counting repeat callers")
# Each answer names its own category (health, say): the gates read them one by one.
categorised_cells(Message, "answers")
gate_objects(Voicemail, through="call")
gate_objects(Recording, through="call")
gate_objects(BusinessHours, through="line")

gate_objects(Line, grants=LineUserObjectPermission, group_grants=LineGroupObjectPermission, permission="view_line")
gate_objects(Call, through="line")
gate_objects(Transfer, through="call")
personal_data(Transfer, target_number="user.contact.phone_number")
not_personal(Transfer, "failure", reason="Twilio's reason, scrubbed of numbers and addresses")
not_personal(Transfer, "conference_name", reason="a random name for the Twilio conference, made by us")
