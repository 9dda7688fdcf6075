"""Periodic jobs: the one place that knows every domain. Each job takes this process's services
(tikabot/services.py `of_process`, built once) and calls one domain's pass; the schedule
(tasks/schedule.py) says how often, and the worker's relay enqueues what is due."""
