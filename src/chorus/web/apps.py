from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "chorus.web"
    label = "web"
    verbose_name = "Web UI"
