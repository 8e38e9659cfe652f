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
 * How long one attempt may take: 10 s, or `localStorage['banditkit.timeoutSeconds']`.
 * A request that takes longer is aborted, so one hung request never freezes a page.
 */
export function timeoutMs() {
  const configured = Number(localStorage.getItem('banditkit.timeoutSeconds'));
  return Number.isFinite(configured) && configured > 0 ? configured * 1000 : 10000;
}

// GETs are retried after a timeout, a network error or a 502/503/504, twice, 0.5 s then 1 s later.
const RETRY_DELAYS_MS = [500, 1000];
const RETRY_STATUSES = new Set([502, 503, 504]);

// The last answer and ETag of each conditional GET, by URL and key: a 304 reuses the body.
const conditionalCache = new Map();

async function fetchWithTimeout(url, init, limit = timeoutMs()) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limit);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (cause) {
    const timedOut = controller.signal.aborted;
    throw new ApiError(0, {
      title: timedOut ? 'The server took too long to answer' : 'The server did not answer',
      detail: timedOut
        ? `No answer from ${getApiBase()} within ${Math.round(limit / 1000)} s.`
        : `Could not reach ${getApiBase()}. Is the server running? (${cause?.message ?? cause})`,
    });
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * request('GET', '/experiments', {query: {status: 'running'}})
 * options: query, json (body), text + contentType, headers, key (overrides the stored key),
 * conditional (GET only: send If-None-Match with the last ETag; a 304 returns the last body),
 * slow (a request that may compute for seconds, as /simulate at its caps: 3x the time limit).
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
  const url = buildUrl(path, options.query);
  const cacheKey = `${key}\n${url}`;
  const cached = method === 'GET' && options.conditional ? conditionalCache.get(cacheKey) : null;
  if (cached) headers['If-None-Match'] = cached.etag;
  const init = { method, headers, body, credentials: 'same-origin', cache: 'no-store' };
  const retries = method === 'GET' ? RETRY_DELAYS_MS.length : 0;
  let response;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetchWithTimeout(url, init, timeoutMs() * (options.slow ? 3 : 1));
      if (!RETRY_STATUSES.has(response.status) || attempt >= retries) break;
    } catch (error) {
      if (attempt >= retries) throw error;
    }
    await sleep(RETRY_DELAYS_MS[attempt]);
  }
  if (response.status === 304 && cached) return cached.payload;
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
  if (response.ok) {
    const etag = response.headers.get('etag');
    if (method === 'GET' && options.conditional && etag) conditionalCache.set(cacheKey, { etag, payload });
    return payload;
  }
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
  getExperiment: (id) => request('GET', `/experiments/${enc(id)}`, { conditional: true }),
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
  allocation: (id) => request('GET', '/allocation', { query: { experiment_id: id }, conditional: true }),
  report: (id) => request('GET', `/experiments/${enc(id)}/report`, { conditional: true }),
  history: (id, query) => request('GET', `/experiments/${enc(id)}/history`, { query, conditional: true }),
  metrics: (id, query) => request('GET', `/experiments/${enc(id)}/metrics`, { query }),
  simulate: (body) => request('POST', '/simulate', { json: body, slow: true }),
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
