"""WSGI entry point: `gunicorn app:app`."""
from tikabot.app import create_app

app = create_app()
