"""Filter building blocks shared by the API lists and the pages."""

import django_filters
from django import forms

MAX_ID = 2**63 - 1  # the largest bigint primary key


class IdFilter(django_filters.Filter):
    """An object id: a whole number from 1 to 2^63−1. Anything else is a 400 with a clear
    message, never a database error (SQLite cannot even bind a larger integer)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
