from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "chorus.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from chorus.networks.signals import account_connected

        def backfill_on_connect(sender, account, **kwargs):
            from chorus.analytics.tasks import backfill_account

            backfill_account(account.pk)

        account_connected.connect(
            backfill_on_connect, weak=False, dispatch_uid="analytics.backfill_on_connect"
        )
