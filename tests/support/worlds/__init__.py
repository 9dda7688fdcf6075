"""The small worlds tests build on: a district, an inbox, a bot, a USSD phone, a registry..."""
