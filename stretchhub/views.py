import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.static import serve

from .tasks import HEARTBEAT_KEY, heartbeat_cache

# Beat ticks every 60 s; three missed ticks mean it (or every worker) is gone.
HEARTBEAT_MAX_AGE_SECONDS = 180


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure to answer means unhealthy
        return False, f"error: {str(exc)[:200]}"
    return True, "ok"


def _check_broker() -> tuple[bool, str]:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # unreachable, refused, bad credentials
        return False, f"error: {str(exc)[:200]}"
    return True, "ok"


def _check_cache() -> tuple[bool, str]:
    # django-redis is set to swallow its errors (a Redis outage must not fail
    # requests), so a broken cache shows only as a value that does not stick.
    probe = uuid.uuid4().hex
    key = f"healthz:probe:{probe}"  # its own key: concurrent probes cannot overwrite each other's
    try:
        cache.set(key, probe, timeout=10)
        kept = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # a backend that raises instead
        return False, f"error: {str(exc)[:200]}"
    if kept != probe:
        return False, "error: a value written to the cache could not be read back"
    return True, "ok"


def _check_beat() -> tuple[bool, str]:
    try:
        last_tick = heartbeat_cache().get(HEARTBEAT_KEY)
    except Exception as exc:  # the cache itself is down
        return False, f"error: {str(exc)[:200]}"
    if last_tick is None:
        return False, "no heartbeat yet"
    age = time.time() - last_tick
    if age > HEARTBEAT_MAX_AGE_SECONDS:
        return False, f"stale: last tick {age:.0f}s ago"
    return True, f"ok: last tick {age:.0f}s ago"


@never_cache
def healthz(request):
    """200 when the database answers; with ?full=1 also the cache, the broker and beat."""
    checks = {"database": _check_database}
    if request.GET.get("full") == "1":
        checks |= {"cache": _check_cache, "broker": _check_broker, "beat": _check_beat}
    results = {name: check() for name, check in checks.items()}
    healthy = all(ok for ok, _ in results.values())
    return JsonResponse({name: detail for name, (_, detail) in results.items()}, status=200 if healthy else 503)


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs).
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def media(request: HttpRequest, path: str):
    """A stored picture or video from var/media/, when media live on the filesystem (`make run`, the tests).

    Every name is written once and never reused (programs/media.py), so
    browsers may keep a copy for a year, as they do for the bucket's objects.
    """
    try:
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
    except (OSError, ValueError):  # a name too long for the filesystem, a NUL byte: no such file either
        raise Http404("No such file.") from None
    response["Cache-Control"] = settings.MEDIA_CACHE_CONTROL
    return response
