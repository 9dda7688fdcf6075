"""A FHIR R4 registry under `/fhir`: create (and conditional create), update, read, search.

- `POST /fhir/{type}`: 201 with `Location`; with `If-None-Exist: identifier=SYSTEM|ID` (a URL query,
  decoded as one: an unencoded `+` is a space), 200 and the record already there, or 412 when several match.
- `PUT /fhir/{type}/{id}`: update (200), or create with that id (201).
- `GET /fhir/{type}/{id}`: read, 404 when unknown. `DELETE /fhir/{type}/{id}`: 204 (also when unknown).
- `GET /fhir/{type}?identifier=…&patient=…&patient:identifier=…&status=…&_count=N`: a searchset
  Bundle with `next` links (`_offset`).
- Errors are OperationOutcomes. Faults (FaultConfig.fhir_*): 5xx, 429, 422, timeouts, a slow server.
- `GET /_sim/fhir`: counts, the Immunizations that share an identifier (duplicates), and per type.
"""
from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from tikabot.simulator.appkeys import SIM
from tikabot.simulator.fhir_store import TYPES, any_token

FHIR_JSON = "application/fhir+json"
IMMUNIZATION_STATUS = ("completed", "entered-in-error", "not-done")
SEARCH_PARAMS = {"identifier", "patient", "patient:identifier", "status"}
PAGE = 100


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/fhir/metadata", metadata)
    router.add_post("/fhir/{type}", _counted(create))
    router.add_put("/fhir/{type}/{id}", _counted(update))
    router.add_get("/fhir/{type}/{id}", _counted(read))
    router.add_delete("/fhir/{type}/{id}", _counted(delete))
    router.add_get("/fhir/{type}", _counted(search))
    router.add_get("/_sim/fhir", stats)


def _counted(handler):
    async def counted(request: web.Request) -> web.Response:
        store = request.app[SIM].fhir
        store.enter()
        try:
            return await handler(request)
        finally:
            store.leave()
    return counted


def outcome(status: int, code: str, text: str) -> web.Response:
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
    return web.json_response(body, status=status, content_type=FHIR_JSON)


def _resource(status: int, resource: dict) -> web.Response:
    response = web.json_response(resource, status=status, content_type=FHIR_JSON)
    if status == 201:
        response.headers["Location"] = (f"/fhir/{resource['resourceType']}/{resource['id']}"
                                        f"/_history/{resource['meta']['versionId']}")
    return response


async def _fault(request: web.Request, write: bool) -> tuple[web.Response | None, str | None]:
    """Before the request is served: a refusal to answer now, or the fault to apply after the write."""
    sim = request.app[SIM]
    config = sim.config
    if config.fhir_latency_ms:
        await asyncio.sleep(config.fhir_latency_ms / 1000)
    fault = sim.faults.fhir_fault(config, write, request.match_info.get("type", ""))
    if fault is None:
        return None, None
    sim.fhir.count("fault_" + fault)
    if fault == "slow":
        await asyncio.sleep(config.fhir_timeout_sleep_s / 4)
        return None, None
    if fault == "429":
        return outcome(429, "throttled", "Too many requests; slow down"), None
    if fault == "422":
        return outcome(422, "business-rule", "Immunization.lotNumber: lot is not in the national vaccine register"), None
    if fault == "500":
        return outcome(500, "exception", "Internal error"), None
    if fault == "timeout":
        await asyncio.sleep(config.fhir_timeout_sleep_s)
        return outcome(500, "timeout", "Upstream timed out"), None
    return None, fault  # "500-written", "timeout-written": the write happens, the answer is lost


async def _after_write(request: web.Request, fault: str | None, answer: web.Response) -> web.Response:
    if fault == "timeout-written":
        await asyncio.sleep(request.app[SIM].config.fhir_timeout_sleep_s)
        return outcome(500, "timeout", "Upstream timed out")
    if fault == "500-written":
        return outcome(500, "exception", "Internal error")
    return answer


def _invalid(resource_type: str, body: object) -> str | None:
    if resource_type not in TYPES:
        return f"resource type {resource_type} is not supported here"
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if body.get("resourceType") != resource_type:
        return f"resourceType {body.get('resourceType')!r} does not match the URL ({resource_type})"
    if resource_type == "Immunization":
        missing = [k for k in ("status", "vaccineCode", "patient") if not body.get(k)]
        if not (body.get("occurrenceDateTime") or body.get("occurrenceString")):
            missing.append("occurrence[x]")
        if missing:
            return "Immunization: missing " + ", ".join(missing)
        if body["status"] not in IMMUNIZATION_STATUS:
            return f"Immunization.status {body['status']!r} is not one of {', '.join(IMMUNIZATION_STATUS)}"
    return None


async def _body(request: web.Request):
    try:
        return await request.json()
    except ValueError:
        return None


async def create(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    resource_type = request.match_info["type"]
    sim.fhir.count("requests")
    refused, fault = await _fault(request, write=True)
    if refused is not None:
        return refused
    body = await _body(request)
    problem = _invalid(resource_type, body)
    if problem:
        return outcome(400 if resource_type in TYPES else 404, "invalid", problem)
    condition = request.headers.get("If-None-Exist")
    if condition:
        params = parse_qs(condition, keep_blank_values=True)  # a search query, decoded as servers do: `+` is a space
        if set(params) != {"identifier"} or not all(params["identifier"]):
            return outcome(400, "not-supported", "If-None-Exist supports identifier=SYSTEM|VALUE only")
        matches = sim.fhir.with_identifier(resource_type, ",".join(params["identifier"]))
        if len(matches) > 1:
            sim.fhir.count("conditional_412")
            return outcome(412, "duplicate", f"{len(matches)} {resource_type} resources match {condition}")
        if matches:
            sim.fhir.count("conditional_existing")
            return await _after_write(request, fault, _resource(200, matches[0]))
    stored = sim.fhir.create(resource_type, body)
    return await _after_write(request, fault, _resource(201, stored))


async def update(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    resource_type, resource_id = request.match_info["type"], request.match_info["id"]
    sim.fhir.count("requests")
    refused, fault = await _fault(request, write=True)
    if refused is not None:
        return refused
    body = await _body(request)
    problem = _invalid(resource_type, body)
    if problem is None and body.get("id") != resource_id:
        problem = f"the resource's id {body.get('id')!r} does not match the URL ({resource_id})"
    if problem:
        return outcome(400 if resource_type in TYPES else 404, "invalid", problem)
    stored, created = sim.fhir.put(resource_type, resource_id, body)
    return await _after_write(request, fault, _resource(201 if created else 200, stored))


async def read(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    resource_type, resource_id = request.match_info["type"], request.match_info["id"]
    sim.fhir.count("requests")
    refused, _ = await _fault(request, write=False)
    if refused is not None:
        return refused
    if resource_type not in TYPES:
        return outcome(404, "not-supported", f"resource type {resource_type} is not supported here")
    found = sim.fhir.get(resource_type, resource_id)
    if found is None:
        return outcome(404, "not-found", f"{resource_type}/{resource_id} is not known")
    return _resource(200, found)


async def delete(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    resource_type, resource_id = request.match_info["type"], request.match_info["id"]
    sim.fhir.count("requests")
    refused, _ = await _fault(request, write=True)
    if refused is not None:
        return refused
    if resource_type not in TYPES:
        return outcome(404, "not-supported", f"resource type {resource_type} is not supported here")
    sim.fhir.delete(resource_type, resource_id)
    return web.Response(status=204)


def _patient_matches(sim, reference: dict, tokens: str) -> bool:
    """`patient:identifier`: the Reference's own identifier, or the identifiers of the Patient it points at."""
    if reference.get("identifier"):
        return any_token([reference["identifier"]], tokens)
    target = (reference.get("reference") or "").removeprefix("Patient/")
    found = sim.fhir.find("Patient", lambda p: p["id"] == target)[:1] if target else []
    return bool(found) and any_token(found[0].get("identifier") or [], tokens)


def _matches(sim, resource: dict, params: dict[str, str]) -> bool:
    if "identifier" in params and not any_token(resource.get("identifier") or [], params["identifier"]):
        return False
    if "status" in params and resource.get("status") not in params["status"].split(","):
        return False
    reference = resource.get("patient") or {}
    if "patient" in params:
        wanted = {p if "/" in p else f"Patient/{p}" for p in params["patient"].split(",")}
        if reference.get("reference") not in wanted:
            return False
    return "patient:identifier" not in params or _patient_matches(sim, reference, params["patient:identifier"])


async def search(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    resource_type = request.match_info["type"]
    sim.fhir.count("requests")
    refused, _ = await _fault(request, write=False)
    if refused is not None:
        return refused
    if resource_type not in TYPES:
        return outcome(404, "not-supported", f"resource type {resource_type} is not supported here")
    params = {k: v for k, v in request.query.items()}
    unknown = {k for k in params if not k.startswith("_")} - SEARCH_PARAMS
    if unknown or ("patient" in params and resource_type != "Immunization"):
        return outcome(400, "not-supported", f"unknown search parameter(s): {', '.join(sorted(unknown or {'patient'}))}")
    try:
        count = min(max(int(params.get("_count", PAGE)), 1), 1000)
        offset = max(int(params.get("_offset", 0)), 0)
    except ValueError:
        return outcome(400, "invalid", "_count and _offset are whole numbers")
    if set(params) - {"_count", "_offset"} == {"identifier"}:
        found = sim.fhir.with_identifier(resource_type, params["identifier"])
    else:
        found = sim.fhir.find(resource_type, lambda r: _matches(sim, r, params))
    page = found[offset:offset + count]
    base = f"{request.url.scheme}://{request.host}/fhir/{resource_type}"
    query = {k: v for k, v in params.items() if k != "_offset"}
    links = [{"relation": "self", "url": f"{base}?{urlencode({**query, '_offset': offset})}"}]
    if offset + count < len(found):
        links.append({"relation": "next", "url": f"{base}?{urlencode({**query, '_offset': offset + count})}"})
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found), "link": links,
              "entry": [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in page]}
    return web.json_response(bundle, content_type=FHIR_JSON)


async def metadata(request: web.Request) -> web.Response:
    interactions = [{"code": c} for c in ("create", "update", "read", "search-type")]
    return web.json_response({
        "resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
        "format": ["json"], "date": "2026-12-02",
        "rest": [{"mode": "server", "resource": [{"type": t, "interaction": interactions,
                                                  "conditionalCreate": True} for t in TYPES]}],
    }, content_type=FHIR_JSON)


async def stats(request: web.Request) -> web.Response:
    return web.json_response({**request.app[SIM].fhir.stats(), "in_flight": request.app[SIM].fhir.in_flight})
