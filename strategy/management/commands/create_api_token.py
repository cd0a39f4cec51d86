"""python manage.py create_api_token USERNAME --name NAME [--expires-days N]

Prints the new key alone on stdout (so `KEY=$(manage.py create_api_token …)` works) and
a note on stderr. The key is never stored, so it cannot be shown again.
"""

import argparse
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from strategy.services import TOKEN_MAX_EXPIRY_DAYS as MAX_EXPIRY_DAYS
from strategy.services import api_token_create


def expiry_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of days from 1 to {MAX_EXPIRY_DAYS}, got {value!r}"
        )
    return days


class Command(BaseCommand):
    help = "Create a named API token for a user and print its key once."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as (with their roles).")
        parser.add_argument(
            "--name", required=True, help='What uses the token, e.g. "indicator pipeline".'
        )
        parser.add_argument(
            "--expires-days",
            metavar="N",
            type=expiry_days,
            help=f"Expire after N days (1–{MAX_EXPIRY_DAYS}). Default: never.",
        )

    def handle(self, *args, username, name, expires_days, **options):
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"There is no user called “{username}”.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            token, key = api_token_create(user=user, name=name, expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(key)
        until = f"until {expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else "until revoked"
        self.stderr.write(
            f"Token “{token.name}” ({token.prefix}…) for {username}, valid {until}. "
            "Store the key now: it cannot be shown again."
        )
