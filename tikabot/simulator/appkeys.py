"""Keys under which the aiohttp application holds the simulator."""

from aiohttp import web

SIM = web.AppKey("simulator", object)
