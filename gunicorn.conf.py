"""gunicorn settings for the production image (read from the working directory).

Every value can be overridden on the command line; the environment variables
below are the knobs an operator is expected to turn.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: the pages are short database round trips; scale with processes.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes a container down.
# Load Django once in the master and fork workers from it: a recycled worker
# is back in milliseconds instead of re-importing the project while its share
# of requests queues (at ~1,000 req/s, recycling every 2,000 requests put
# second-long stalls into the p99). Nothing opens a database or Redis
# connection at import, so forked workers share none.
preload_app = True
max_requests = 20000
max_requests_jitter = 2000
# Docker's overlay filesystem can stall the worker heartbeat file; use memory.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The management socket is for a shell on the host, not a container.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# The request id matches the one on Django's log lines for the same request.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# The TLS proxy's address; Django itself trusts X-Forwarded-Proto (settings).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
