"""Languages for tikabot: message catalogs (en, bn, hi), digit normalisation, SMS encoding.

Translators edit locale/<lang>/LC_MESSAGES/messages.po only; the files are read at
run time. See catalog.render, encoding.sms_info, digits.ascii_digits.
"""
