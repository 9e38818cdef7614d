"""The models of docs/howto/django.md, verbatim: tests/clients/test_django.py runs them."""

from typing import Any

from django.db import models
from django.db.models import Func, Value

from pyidsql.errors import translate_errors


class StateVersioned(models.Model):
    """The version is counted by the database; Django sends back the one it loaded."""

    state_version = models.BigIntegerField(db_default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with translate_errors():  # ID301 raises pyidsql.errors.StaleVersion
            super().save(*args, **kwargs)
        self.refresh_from_db(fields=["state_version"])


def prefixed_id(prefix: str) -> Func:
    """DEFAULT idsql.generate_id(prefix), drawn by the database on INSERT."""
    return Func(Value(prefix), function="idsql.generate_id")


class Customer(StateVersioned):
    id = models.TextField(primary_key=True, db_default=prefixed_id("CUS"))
    name = models.TextField()
    updated_at = models.DateTimeField(db_default=Func(function="now"), editable=False)


class Invoice(StateVersioned):
    id = models.TextField(primary_key=True, db_default=prefixed_id("INV"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
    amount = models.IntegerField()
