"""python manage.py revoke_api_token USERNAME --name NAME"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from strategy.models import ApiToken
from strategy.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke a user's API token by name; tools using it are refused from then on."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The token's owner.")
        parser.add_argument("--name", required=True, help="The token's name.")

    def handle(self, *args, username, name, **options):
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"There is no user called “{username}”.")
        # At most one: active names are unique per user (apitoken_active_name_unique_per_user).
        token = ApiToken.objects.filter(
            user=user, name=name.strip(), revoked_at__isnull=True
        ).first()
        if token is None:
            raise CommandError(f"{username} has no active token called “{name}”.")
        api_token_revoke(token=token, by=user)
        self.stdout.write(f"Revoked token “{token.name}” ({token.prefix}…) of {username}.")
