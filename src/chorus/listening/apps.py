from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "chorus.listening"
    label = "listening"
    verbose_name = "Listening: topics, queries and the public posts they match"
