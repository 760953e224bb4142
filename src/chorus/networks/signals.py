"""Events other apps react to without networks depending on them."""

from django.dispatch import Signal

# Sent after an account is (re)connected and committed; publishing resumes held posts.
account_connected = Signal()
