#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stretchhub.settings")
    # manage.py in a checkout is a developer's tool: debug settings unless told
    # otherwise. The image sets DJANGO_DEBUG=0 for every process in it
    # (Dockerfile), and gunicorn and Celery never take this default.
    os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
