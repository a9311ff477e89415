"""The VAPID key for Web Push: a development key under var/, or a new one printed for production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stretchhub import vapid


class Command(BaseCommand):
    help = (
        "Write a development VAPID key to var/ unless one is configured (make run does this), "
        "or with --print, print a new key to put in VAPID_PRIVATE_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", help="Print a new private key and its public key.")

    def handle(self, *args, print: bool = False, **options):
        if print:
            key = vapid.new_private_key()
            self.stdout.write(
                f"VAPID_PRIVATE_KEY={key}\n# public key (browsers subscribe with it): {vapid.public_key(key)}"
            )
            return
        if settings.VAPID_PRIVATE_KEY:
            self.stdout.write(
                f"Push: VAPID key configured (public key {vapid.public_key(settings.VAPID_PRIVATE_KEY)})."
            )
            return
        if not settings.DEBUG:
            raise CommandError("Set VAPID_PRIVATE_KEY; make one with: python manage.py push_keys --print")
        path = settings.VAPID_DEV_KEY_FILE
        path.write_text(vapid.new_private_key() + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Push: wrote a development VAPID key to {path}.")
