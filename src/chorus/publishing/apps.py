from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "chorus.publishing"
    label = "publishing"
    verbose_name = "Publishing"

    def ready(self):
        from chorus.networks.signals import account_connected
        from chorus.publishing.outcomes import release_held_for_account

        account_connected.connect(
            lambda sender, account, **kw: release_held_for_account(account=account),
            weak=False,
            dispatch_uid="publishing.release_held_for_account",
        )
