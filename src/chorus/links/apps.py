from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "chorus.links"
    label = "links"
    verbose_name = "Links: short links, clicks, conversions and goals"

    def ready(self) -> None:
        from chorus.links import shortening
        from chorus.publishing import hooks

        hooks.register_before_send(shortening.shorten_claimed)
        hooks.register_counting(shortening.as_counted)
