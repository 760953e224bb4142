"""The REST API (Django Ninja): one router per domain, each handler calling services."""
