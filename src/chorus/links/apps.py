from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "chorus.links"
    label = "links"
    verbose_name = "Links: short links, clicks, conversions and goals"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from chorus.analytics.reports import Section, register_section
        from chorus.links import figures, measures, shortening  # noqa: F401  (they register)
        from chorus.links.selectors import report_goals
        from chorus.publishing import hooks

        hooks.register_before_send(shortening.shorten_claimed)
        register_section(
            "goals", Section(gettext_lazy("Goals"), "links/_report_goals.html", report_goals)
        )
        hooks.register_counting(shortening.as_counted)
