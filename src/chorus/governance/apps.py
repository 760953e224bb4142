from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "chorus.governance"
    label = "governance"
    verbose_name = "Governance: audit log, compliance policies, sign-in safety"

    def ready(self) -> None:
        from chorus.governance import checks, signals  # noqa: F401  (registers both)
