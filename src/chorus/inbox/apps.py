from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "chorus.inbox"
    label = "inbox"
    verbose_name = "Inbox"
