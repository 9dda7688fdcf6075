"""gunicorn settings for the web process (`gunicorn -c python:tikabot.gunicorn_conf`).

The access log names the path without its query string: the USSD gateway sends its shared secret
as `?token=`, and status callbacks carry our message ids. `%(U)s` is the path alone; the request
line `%(r)s` (gunicorn's default) would log the secret.
"""
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
