"""gunicorn settings for the web process (`gunicorn -c python:tikabot.stack.gunicorn_conf`).

Threads, not sync workers: a sync worker is held by one client for as long as that client takes to
send its request, so three connections sending their headers a byte a second held both workers of
the Procfile until the 30 s worker timeout, and every webhook waited. A `gthread` worker waits for a
connection's first bytes in its main loop (an idle connection costs no thread) and runs Flask's sync
code in a pool of threads; a slow client holds one thread of 32, not a whole worker.
`bench/slow_clients.py` measures it. What still holds a thread is a client that keeps trickling
bytes: a public deployment puts a buffering front server (nginx) before gunicorn, which hands on
only whole requests; hence the loopback bind by default (the Procfile's `TIKABOT_WEB_HOST`).

The access log names the path without its query string: the USSD gateway sends its shared secret
as `?token=`, and status callbacks carry our message ids. `%(U)s` is the path alone; the request
line `%(r)s` (gunicorn's default) would log the secret. Its address is the caller's: behind nginx
the peer is always 127.0.0.1, so when the peer is one of our proxies (`forwarded_allow_ips`, from
TIKABOT_TRUSTED_PROXIES, the same list C-DAC's source check trusts) the log names the address that
proxy saw in X-Forwarded-For (access_log.py); from any other peer the header is ignored.

Nothing listens but the app: no control socket (gunicorn 25.1+ opens one by default), no statsd.
"""
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

from tikabot.config import EX_CONFIG, Config

load_dotenv(Path.cwd() / ".env", override=False)  # as the app reads its settings (config.py)
try:  # a wrong setting is one line and EX_CONFIG, which the unit does not restart (tikabot-web.service)
    _settings = Config.from_env()
except ValueError as exc:
    sys.stderr.write(f"Error: {exc}\n")
    sys.exit(EX_CONFIG)

worker_class = "gthread"
threads = int(os.environ.get("TIKABOT_WEB_THREADS") or 32)
bind = [f"{os.environ.get('TIKABOT_WEB_HOST') or '127.0.0.1'}:{os.environ.get('PORT') or 5000}"]
control_socket_disable = True
statsd_host = None
keepalive = 5  # seconds a kept-alive connection waits for its next request, in the main loop, not a thread

accesslog = "-"
logger_class = "tikabot.stack.access_log.AccessLog"
forwarded_allow_ips = ",".join(_settings.trusted_proxies)
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
