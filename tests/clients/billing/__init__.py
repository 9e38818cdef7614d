"""The Django app of docs/howto/django.md: its models, as the guide shows them."""
