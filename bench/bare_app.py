"""The baseline for bench/inbound.py: a bare Flask endpoint answering a constant TwiML reply."""
from flask import Flask, Response

app = Flask(__name__)
REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


@app.post("/sms/inbound")
def inbound():
    return Response(REPLY, mimetype="application/xml")
