"""The live desk's shared records, in the public schema: the agents' presence and the ACD queue.

Nothing here is a caller's: a queued call is its company, its line's and call's ids (plain integers,
never foreign keys into a company's schema), a priority and times. What the agent may see of the
caller is read on their own request, through the gates, inside the company.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class AgentState(models.TextChoices):
    AVAILABLE = "available", "Available"
    OFFERED = "offered", "Offered a call"
    ON_CALL = "on_call", "On a call"
    WRAP_UP = "wrap_up", "Wrap-up"
    ON_BREAK = "on_break", "On break"
    OFFLINE = "offline", "Offline"


class BreakReason(models.Model):
    """A reason code for a break (lunch, training, coaching), configured by the provider."""

    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Presence(models.Model):
    """An agent's state now, one row per agent; its history is in `PresenceChange`."""

    user = models.OneToOneField("tenants.User", on_delete=models.CASCADE, primary_key=True, related_name="presence")
    state = models.CharField(max_length=10, choices=AgentState.choices, default=AgentState.OFFLINE)
    reason = models.ForeignKey(BreakReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    since = models.DateTimeField()
    # Longest-idle routing: when the agent last became free for a call.
    idle_since = models.DateTimeField(null=True, blank=True)
    languages = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="Languages the agent answers in (et, en, ru): a line that asks for one routes only to them",
    )
    # The console's socket and heartbeat: unseen for DESK_GRACE_SECONDS, the agent is offline.
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "presence"
        indexes = [models.Index(fields=["state", "idle_since"], name="presence_free_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_state_display()}"


class PresenceChange(models.Model):
    """One change of an agent's state, so that time in each state can be reported."""

    user = models.ForeignKey("tenants.User", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=AgentState.choices)
    reason = models.ForeignKey(BreakReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cause = models.CharField(max_length=40, help_text="agent, offer, accept, offer expired, connection lost, …")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"], name="presence_change_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state} at {self.at:%Y-%m-%d %H:%M:%S}"


class QueuedCall(models.Model):
    """A call waiting for an agent: ids, company, line, priority and times only."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        CONNECTED = "connected", "Connected to an agent"
        OVERFLOWED = "overflowed", "Overflowed"
        ABANDONED = "abandoned", "Caller hung up"

    class Overflow(models.TextChoices):
        VOICEMAIL = "voicemail", "Voicemail"
        MESSAGE_ONLY = "message_only", "Message-only script"
        FORWARD_ONCALL = "forward_oncall", "The person on call"

    company = models.ForeignKey("tenants.ClientCompany", on_delete=models.CASCADE, related_name="+")
    line_id = models.PositiveIntegerField()
    call_id = models.PositiveIntegerField()
    priority = models.SmallIntegerField(default=0, help_text="Higher first")
    language = models.CharField(max_length=8, blank=True)
    # Who may take it: staff assigned to the company holding the line's grant (computed inside the
    # company when the call enters the queue); the gates check again when the agent opens it.
    eligible = ArrayField(models.PositiveIntegerField(), default=list)
    passed_over = ArrayField(models.PositiveIntegerField(), default=list, help_text="Agents whose offer ran out")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    enqueued_at = models.DateTimeField()
    overflow_at = models.DateTimeField(help_text="The line's maximum wait, reached")
    overflow = models.CharField(max_length=16, choices=Overflow.choices)
    offered_to = models.ForeignKey("tenants.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Where Twilio holds the caller, as its first hold-loop request (waitUrl) tells: the queue's
    # and the call's provider ids, and the URL on the company's host that puts the caller through
    # to the agent. Accepting dequeues the caller at once with them (desk/dequeue.py).
    queue_sid = models.CharField(max_length=34, blank=True)
    call_sid = models.CharField(max_length=64, blank=True)
    dequeue_url = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-priority", "enqueued_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "call_id"], name="queued_call_once"),
            # No agent holds two offers, whatever the routing code does.
            models.UniqueConstraint(
                fields=["offered_to"], condition=Q(state="offered"), name="queued_one_offer_per_agent"
            ),
            models.CheckConstraint(
                condition=~Q(state="offered") | Q(offered_to__isnull=False, offer_expires_at__isnull=False),
                name="queued_offer_has_agent",
            ),
        ]
        indexes = [models.Index(fields=["state", "priority", "enqueued_at"], name="queued_waiting_idx")]

    def __str__(self) -> str:
        return f"queued call {self.pk} ({self.get_state_display()})"
