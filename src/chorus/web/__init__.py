"""The server-rendered web UI: thin views calling domain services, htmx for interactivity."""
