"""The baseline for bench/inbound.py: a bare Flask endpoint answering what tikabot answers once a
message is kept, an empty TwiML <Response/>."""
from flask import Flask, Response

app = Flask(__name__)
REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@app.post("/sms/inbound")
def inbound():
    return Response(REPLY, mimetype="application/xml")
