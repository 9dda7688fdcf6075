"""A small FHIR R4 REST client on `requests`: create (conditional), update, read, search.

Why not a FHIR client library: sync needs to see exactly what the registry answered (201 created,
200 existing, 412 several matches, an OperationOutcome's reason, a timeout) to decide between done,
retry and give up, and needs a timeout on every call. `fhirclient` hides conditional create behind
its own R4 models; `fhirpy` is built around its resource objects and async use. Sixty lines on
`requests` (already here through twilio) say exactly what goes over the wire.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

import requests

FHIR_JSON = "application/fhir+json"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class FhirError(Exception):
    """A request that did not succeed. `retryable`: a network failure, a timeout, 408, 429 or 5xx
    (the registry may not have it, or may: a conditional create makes the retry safe)."""

    def __init__(self, reason: str, status: int | None = None, retryable: bool = True):
        super().__init__(reason)
        self.reason, self.status, self.retryable = reason, status, retryable


@dataclass(frozen=True)
class Answer:
    status: int
    resource: dict


def outcome_reason(body: object, status: int) -> str:
    """The OperationOutcome's words (diagnostics, else details.text, else the code), or the HTTP status."""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        said = []
        for issue in body.get("issue") or []:
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code")
            if text:
                said.append(f"{issue.get('severity', 'error')}: {text}")
        if said:
            return f"HTTP {status}: " + "; ".join(said)
    return f"HTTP {status}"


def id_from_location(location: str) -> str:
    """`…/Immunization/123/_history/1` -> `123`."""
    parts = location.rstrip("/").split("/")
    return parts[parts.index("_history") - 1] if "_history" in parts else parts[-1]


def if_none_exist_header(params: dict[str, str]) -> str:
    """The header's value is a search query, and a server decodes it as one: `+` reads as a space,
    `&` splits, `%` escapes. Unencoded, `identifier=urn:tikabot:staff|+919800000001` matches nothing
    and every sync makes the vaccinator's Practitioner again."""
    return urlencode(params)


class FhirClient:
    def __init__(self, base_url: str, timeout_s: float = 10.0, token: str | None = None,
                 session: requests.Session | None = None):
        self.base = base_url.rstrip("/") + "/"
        self.timeout = timeout_s
        self.http = session or requests.Session()
        self.http.headers.update({"Accept": FHIR_JSON, "Prefer": "return=representation"})
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.http.close()

    def create(self, resource: dict, if_none_exist: dict[str, str] | None = None) -> Answer:
        """POST; with `if_none_exist` (search parameters, e.g. `{"identifier": "SYSTEM|ID"}`) the
        registry answers 200 with the record it already has instead of making a second one."""
        headers = {"Content-Type": FHIR_JSON}
        if if_none_exist:
            headers["If-None-Exist"] = if_none_exist_header(if_none_exist)
        return self._call("POST", resource["resourceType"], json=resource, headers=headers)

    def update(self, resource: dict) -> Answer:
        path = f"{resource['resourceType']}/{resource['id']}"
        return self._call("PUT", path, json=resource, headers={"Content-Type": FHIR_JSON})

    def delete(self, resource_type: str, resource_id: str) -> None:
        self._call("DELETE", f"{resource_type}/{resource_id}")

    def read(self, resource_type: str, resource_id: str) -> Answer:
        return self._call("GET", f"{resource_type}/{resource_id}")

    def search(self, resource_type: str, params: dict) -> list[dict]:
        """Every match, following the Bundle's `next` links."""
        found, answer = [], self._call("GET", resource_type, params=params)
        while True:
            found += [e["resource"] for e in answer.resource.get("entry") or [] if "resource" in e]
            following = next((l["url"] for l in answer.resource.get("link") or [] if l.get("relation") == "next"),
                             None)
            if not following:
                return found
            answer = self._call("GET", following)

    def _call(self, method: str, path: str, **kwargs) -> Answer:
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base, path)
        try:
            response = self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise FhirError(f"no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise FhirError(f"network error: {type(exc).__name__}") from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise FhirError(outcome_reason(body, response.status_code), response.status_code,
                            retryable=response.status_code in RETRYABLE_STATUS)
        if body == {} and response.headers.get("Location"):  # a registry that answers return=minimal
            body = {"id": id_from_location(response.headers["Location"])}
        if method == "DELETE":
            return Answer(response.status_code, body if isinstance(body, dict) else {})
        if not isinstance(body, dict) or (method in ("POST", "PUT") and not body.get("id")):
            raise FhirError(f"HTTP {response.status_code}: the answer is not a FHIR resource with an id",
                            response.status_code, retryable=False)
        return Answer(response.status_code, body)
