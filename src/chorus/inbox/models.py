"""The unified inbox: conversations, their messages, the people who write, and our replies.

Everything a poller stores is keyed by (account, remote id), so a message or an activity
seen twice is stored once. Likes, reposts and follows are `Activity`, counted on our post
and on the contact, never conversations.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership, Team, Workspace
from chorus.networks.models import SocialAccount


class Contact(models.Model):
    """Someone on a network who wrote to or interacted with one of our accounts."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    messages_count = models.PositiveIntegerField(default=0)
    activity_count = models.PositiveIntegerField(default=0)  # likes, reposts, follows

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "handle"], name="contact_once_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.handle

    @property
    def interactions_count(self) -> int:
        return self.messages_count + self.activity_count


class ConversationKind(models.TextChoices):
    THREAD = "thread", _("Public thread")
    DIRECT = "direct", _("Direct messages")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    CLOSED = "closed", _("Closed")


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    UNKNOWN = "unknown", _("Unknown")


class Conversation(models.Model):
    """A public thread around one of our posts or mentions, or a direct-message exchange."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        SocialAccount, on_delete=models.CASCADE, related_name="conversations"
    )
    key = models.CharField(max_length=600)  # how the poller finds it again (see ingest)
    kind = models.CharField(max_length=10, choices=ConversationKind.choices)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    variant = models.ForeignKey(  # our published post it is about, if any
        "publishing.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assignee = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    language = models.CharField(max_length=16, blank=True)
    sentiment = models.CharField(
        max_length=10, choices=Sentiment.choices, default=Sentiment.UNKNOWN
    )
    spam = models.BooleanField(default=False)
    preview = models.CharField(max_length=300, blank=True)
    search_text = models.TextField(blank=True)  # folded (chorus.text) text of its messages
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()  # its first message
    last_message_at = models.DateTimeField()
    # First-response timing: from the first message to our first reply sent
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Which response-target warning went out (inbox.targets): 0 none, 1 nearing, 2 past.
    target_stage = models.PositiveSmallIntegerField(default=0, db_default=0)
    first_responder = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Begun by our thank-you for a repost (inbox.thanks), not by them: nothing to respond to,
    # so the response figures leave it out.
    opened_by_us = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="conversation_once")]
        indexes = [  # the inbox list: a workspace's views, newest first
            models.Index(
                fields=["workspace", "status", "-last_message_at"], name="inbox_by_status"
            ),
            models.Index(
                fields=["workspace", "assignee", "status", "-last_message_at"],
                name="inbox_by_assignee",
            ),
            models.Index(fields=["account", "status", "-last_message_at"], name="inbox_by_account"),
            models.Index(
                fields=["team", "status", "-last_message_at"],
                condition=Q(team__isnull=False),
                name="inbox_by_team",
            ),
            models.Index(fields=["workspace", "created_at"], name="inbox_by_created"),
            # "any status" (search across everything): newest first without a sort, so a
            # common word stops after a page of matches instead of sorting all of them
            models.Index(fields=["workspace", "-last_message_at", "-id"], name="inbox_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.key}"


class Tag(models.Model):
    """A label on a conversation (a row each, so filtering by tag uses an index)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "name"], name="tag_once")]
        indexes = [models.Index(fields=["name", "conversation"], name="tag_lookup")]

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OURS = "out", _("Ours")


class Message(models.Model):
    """One message in a conversation: theirs (polled) or ours (a reply sent from Chorus)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=500)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=20)  # reply, mention, quote, direct_message, other
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    author = models.ForeignKey(  # ours: who sent it
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    subject_remote_id = models.CharField(max_length=500, blank=True)  # the post it answers
    remote_conversation_id = models.CharField(max_length=500, blank=True)  # DMs
    variant = models.ForeignKey(  # our published post it answers, if any
        "publishing.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)  # changed on the network
    deleted_at = models.DateTimeField(null=True, blank=True)  # deleted on the network: kept

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="message_once")
        ]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_order")]

    def __str__(self) -> str:
        return f"{self.direction} {self.remote_id}"


class ActivityKind(models.TextChoices):
    LIKE = "like", _("Like")
    REPOST = "repost", _("Repost")
    FOLLOW = "follow", _("Follow")


class Activity(models.Model):
    """A like, repost or follow: counted on our post and on the contact."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=500)
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    subject_remote_id = models.CharField(max_length=500, blank=True)
    variant = models.ForeignKey(
        "publishing.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="activity_once")
        ]
        indexes = [models.Index(fields=["variant", "kind"], name="activity_by_post")]

    def __str__(self) -> str:
        return f"{self.kind} {self.remote_id}"


class Note(models.Model):
    """An internal note on a conversation: seen by the team, never sent."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text[:60]


class ReplyState(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Reply(models.Model):
    """Our answer, sent exactly once: the row (with its idempotency key) is committed in
    `sending` before the network is called; an uncertain outcome is reconciled, not resent."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField()
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=ReplyState.choices, default=ReplyState.SENDING)
    reply_to_remote_id = models.CharField(max_length=500, blank=True)
    reply_to_url = models.URLField(max_length=1000, blank=True)
    direct_conversation_id = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    uncertain_since = models.DateTimeField(null=True, blank=True)  # an outcome we never heard
    lease_until = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["lease_until"],
                condition=Q(state="sending"),
                name="reply_to_reconcile",
            )
        ]

    def __str__(self) -> str:
        return f"{self.state}: {self.text[:60]}"


class PollHealth(models.TextChoices):
    OK = "ok", _("Working")
    RATE_LIMITED = "rate_limited", _("Slowed down by the network")
    FAILING = "failing", _("Failing")
    RECONNECT = "reconnect", _("Needs reconnecting")


class PollState(models.Model):
    """Where polling an account stands: its cursor (advanced only with the messages it
    covers), when to poll next, backfill progress and the last problem."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, related_name="+")
    cursor = models.TextField(blank=True)
    next_poll_at = models.DateTimeField()
    interval_seconds = models.PositiveIntegerField(default=60)
    health = models.CharField(max_length=20, choices=PollHealth.choices, default=PollHealth.OK)
    last_poll_at = models.DateTimeField(null=True, blank=True)  # set when a poll is claimed
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    backfill_done = models.BooleanField(default=False)
    backfilled = models.PositiveIntegerField(default=0)  # items stored by the backfill
    stored = models.PositiveBigIntegerField(default=0)
    notice = models.TextField(blank=True)  # what the last fetch could not read (e.g. DMs)
    # Set by the stream consumer (`inbox.streams`) while the account's push stream is open,
    # renewed every half minute: a consumer that dies lets it lapse, and the inbox says
    # "polling" again.
    stream_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_poll_at"], name="poll_due")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.health}"

    @property
    def streaming(self) -> bool:
        from django.utils import timezone

        return self.stream_until is not None and self.stream_until > timezone.now()


class RoutingRule(models.Model):
    """Evaluated on arrival, in `position` order: conditions all hold → actions apply."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    stop = models.BooleanField(default=False)  # later rules are skipped when this one matched
    # conditions: each empty list means "any"
    networks = models.JSONField(default=list, blank=True)
    account_ids = models.JSONField(default=list, blank=True)
    kinds = models.JSONField(default=list, blank=True)  # message kinds
    languages = models.JSONField(default=list, blank=True)
    sentiments = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)  # whole words (chorus.text)
    # actions
    assign_to = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assign_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    add_tags = models.JSONField(default=list, blank=True)
    set_priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    close_as_spam = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SavedReply(models.Model):
    """A ready answer; {name}, {handle} and {agent} are filled in when used."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    language = models.CharField(max_length=16, blank=True)  # blank: any language
    text = models.TextField()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name", "language"], name="saved_reply_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InboxSettings(models.Model):
    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    first_response_minutes = models.PositiveIntegerField(default=60)
    # Weekday ("0" Monday … "6" Sunday) -> ["09:00", "17:00"] in the workspace's zone; the
    # target's clock runs only inside these hours. Empty: around the clock.
    business_hours = models.JSONField(default=dict, blank=True)
    # Thank-you and follow-up suggestions (inbox.thanks): the saved reply each is drafted
    # from (by name, in the conversation's language; blank: no suggestions of that kind).
    thank_you_reply = models.CharField(max_length=120, blank=True, db_default="")
    follow_up_reply = models.CharField(max_length=120, blank=True, db_default="")
    follow_up_hours = models.PositiveIntegerField(default=24, db_default=24)
    # Suggestions sent without a person's say, as the admin who turned it on (audited).
    auto_send = models.BooleanField(default=False, db_default=False)
    auto_send_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.first_response_minutes} min"


class SuggestionKind(models.TextChoices):
    THANKS = "thanks", _("Thank-you")
    FOLLOW_UP = "follow_up", _("Follow-up")


class SuggestionReason(models.TextChoices):
    REPOST = "repost", _("Shared our post")
    QUOTE = "quote", _("Quoted our post")
    POSITIVE = "positive", _("Wrote kindly about our post")
    CLOSED = "closed", _("Conversation closed")


class SuggestionState(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    AWAITING_APPROVAL = "awaiting", _("Waiting for approval")
    SENT = "sent", _("Sent")
    DISMISSED = "dismissed", _("Dismissed")


class Suggestion(models.Model):
    """A thank-you or follow-up Chorus drafted from a saved reply: sent (through the reply
    path), edited or dismissed by a person, or sent by itself when the workspace allows.
    One per (account, key): a thank-you per person per post, a follow-up per conversation."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=600)
    kind = models.CharField(max_length=10, choices=SuggestionKind.choices)
    reason = models.CharField(max_length=10, choices=SuggestionReason.choices)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(  # none for a repost until the thank-you is sent
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    variant = models.ForeignKey(
        "publishing.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject_remote_id = models.CharField(max_length=500, blank=True)  # our post
    subject_url = models.URLField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, blank=True)
    text = models.TextField()
    state = models.CharField(
        max_length=10, choices=SuggestionState.choices, default=SuggestionState.SUGGESTED
    )
    drafted_by = models.ForeignKey(  # a member who may only draft: waits for approval
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply = models.ForeignKey(
        Reply, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="suggestion_once")]
        indexes = [
            models.Index(fields=["workspace", "state", "-created_at"], name="suggestion_queue")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.state}"


class Presence(models.Model):
    """Who has a conversation open, and who is writing a reply in it (collision detection).
    `seen_at` is renewed by the pane's timeline poll, `typed_at` by the reply box; both
    count for PRESENCE_SECONDS, so a closed tab drops out by itself."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()
    typed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "member"], name="presence_once")
        ]
        indexes = [models.Index(fields=["conversation", "seen_at"], name="presence_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.conversation_id}"
