// The API client: one fetch wrapper, problem+json errors, the API key and the API base.

const KEY_STORAGE = 'banditkit.apiKey';
const BASE_STORAGE = 'banditkit.apiBase';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? {};
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }
}

/** 401/403: the key is missing or wrong. The app listens for 'banditkit:auth' and asks again. */
export class AuthError extends ApiError {
  constructor(status, problem) {
    super(status, problem);
    this.name = 'AuthError';
  }
}

export function getApiKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/**
 * The API base by default is the page's origin plus whatever prefix precedes /dashboard/
 * (an API Gateway stage, say). A <meta name="banditkit-api-base"> or the Server dialog
 * (kept in localStorage) overrides it for other hosting.
 */
export function defaultApiBase() {
  const meta = document.querySelector('meta[name="banditkit-api-base"]');
  const configured = meta?.getAttribute('content')?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const path = window.location.pathname;
  const at = path.indexOf('/dashboard');
  return window.location.origin + (at >= 0 ? path.slice(0, at) : '');
}

export function getApiBase() {
  return localStorage.getItem(BASE_STORAGE) || defaultApiBase();
}

export function setApiBase(base) {
  const clean = (base ?? '').trim().replace(/\/+$/, '');
  if (clean) localStorage.setItem(BASE_STORAGE, clean);
  else localStorage.removeItem(BASE_STORAGE);
}

function buildUrl(path, query) {
  const url = new URL(getApiBase() + path, window.location.href);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== null && v !== undefined && v !== '') url.searchParams.set(k, String(v));
  }
  return url;
}

/**
 * request('GET', '/experiments', {query: {status: 'running'}})
 * options: query, json (body), text + contentType, headers, key (overrides the stored key).
 */
export async function request(method, path, options = {}) {
  const headers = { Accept: 'application/json, application/problem+json', ...options.headers };
  const key = options.key ?? getApiKey();
  if (key) headers['x-api-key'] = key;
  let body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.text !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'text/plain';
    body = options.text;
  }
  let response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method, headers, body, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (cause) {
    throw new ApiError(0, {
      title: 'The server did not answer',
      detail: `Could not reach ${getApiBase()}. Is the server running? (${cause?.message ?? cause})`,
    });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  let payload = null;
  if (type.includes('json')) {
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
  } else {
    payload = await response.text();
  }
  if (response.ok) return payload;
  const problem = payload && typeof payload === 'object'
    ? payload
    : { title: `HTTP ${response.status}`, detail: typeof payload === 'string' ? payload.slice(0, 300) : '' };
  if (response.status === 401 || response.status === 403) {
    const error = new AuthError(response.status, problem);
    if (!options.quietAuth) window.dispatchEvent(new CustomEvent('banditkit:auth', { detail: error }));
    throw error;
  }
  throw new ApiError(response.status, problem);
}

const enc = encodeURIComponent;

export const api = {
  health: () => request('GET', '/health'),
  listExperiments: (query) => request('GET', '/experiments', { query }),
  createExperiment: (body) => request('POST', '/experiments', { json: body }),
  getExperiment: (id) => request('GET', `/experiments/${enc(id)}`),
  updateExperiment: (id, body) => request('PATCH', `/experiments/${enc(id)}`, { json: body }),
  deleteExperiment: (id) => request('DELETE', `/experiments/${enc(id)}`),
  ingest: (body, idempotencyKey) => request('POST', '/events', {
    json: body,
    headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
  }),
  importCsv: (id, csv, mode = 'set', idempotencyKey = null) => request('POST', `/experiments/${enc(id)}/import`, {
    text: csv, contentType: 'text/csv', query: { mode },
    headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
  }),
  allocation: (id) => request('GET', '/allocation', { query: { experiment_id: id } }),
  report: (id) => request('GET', `/experiments/${enc(id)}/report`),
  history: (id, query) => request('GET', `/experiments/${enc(id)}/history`, { query }),
  metrics: (id) => request('GET', `/experiments/${enc(id)}/metrics`),
  simulate: (body) => request('POST', '/simulate', { json: body }),
  // Reset needs the admin key in x-admin-key (plus the usual x-api-key when keys are on).
  reset: (adminKey) => request('POST', '/reset_data', {
    headers: { 'x-admin-key': adminKey }, quietAuth: true,
  }),
};

/** Follow next_cursor until exhausted or `max` items are collected. */
export async function collectPages(fetchPage, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const page = await fetchPage(cursor);
    items.push(...(page?.items ?? []));
    cursor = page?.next_cursor ?? null;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}
