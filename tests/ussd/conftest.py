from ussd_world import at_now, phone, post, world  # noqa: F401  (fixtures)
