from django.db import connection
from django.http import JsonResponse


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means unhealthy
        return JsonResponse({"database": "error", "detail": str(exc)[:200]}, status=503)
    return JsonResponse({"database": "ok"})
