from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chorus.accounts"
    label = "accounts"
    verbose_name = "Accounts and teams"
