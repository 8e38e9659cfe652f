// Bootstrap: health check, API key prompt, hash router.
import { api, AuthError, defaultApiBase, getApiBase, getApiKey, setApiBase, setApiKey } from './api.js';
import { apiBaseDialog, apiKeyDialog } from './dialogs.js';
import { errorBox, h, replace } from './dom.js';
import { destroyCharts } from './charts.js';
import { renderList } from './views/list.js';
import { renderCreate } from './views/create.js';
import { renderExperiment } from './views/experiment.js';
import { renderSimulator } from './views/simulator.js';
import { renderAdmin } from './views/admin.js';

const main = document.getElementById('main');
const healthEl = document.getElementById('health');
const adminLink = document.getElementById('nav-admin');

export const app = { health: null };

let cleanup = null;
let promptOpen = false;
let navigated = false; // focus moves to the new heading on navigation, not on first load

const routes = [
  [/^#\/?(?:\?.*)?$/, () => renderList], // #/?q=…&status=…: the list's filters
  [/^#\/new$/, () => renderCreate],
  [/^#\/experiments\/([^/]+)$/, () => renderExperiment],
  [/^#\/simulate$/, () => renderSimulator],
  [/^#\/admin$/, () => renderAdmin],
];

function route() {
  const raw = window.location.hash;
  const hash = raw.startsWith('#/') ? raw : '#/';
  cleanup?.();
  cleanup = null;
  destroyCharts(main);
  replace(main);
  document.title = 'banditkit';
  const path = hash.split('?')[0];
  for (const link of document.querySelectorAll('nav a')) {
    const current = link.getAttribute('href') === path
      || (hash.startsWith('#/experiments/') && link.getAttribute('href') === '#/');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      const params = match.slice(1).map(decodeURIComponent);
      // Every view opens at its top; the list then scrolls back to where a Back left it.
      window.scrollTo(0, 0);
      cleanup = view()(main, app, ...params) ?? null;
      if (navigated) main.querySelector('h1')?.focus({ preventScroll: true });
      navigated = true;
      return;
    }
  }
  replace(main, h('h1', { tabindex: '-1' }, 'Not found'),
    h('p', null, 'There is no page here. ', h('a', { href: '#/' }, 'Back to the experiments.')));
}

async function checkHealth() {
  try {
    const health = await api.health();
    app.health = health;
    replace(healthEl, h('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }),
      `${health.store ?? 'store'} · v${health.version ?? '?'}`);
    adminLink.hidden = !health.reset_enabled;
    return health;
  } catch (error) {
    app.health = null;
    // 503 naming the store: the server answers but its database does not.
    const storeDown = error?.status === 503 && error.errors?.[0]?.field === 'store';
    replace(healthEl, h('span', { class: 'dot dot-bad', 'aria-hidden': 'true' }),
      storeDown ? 'store unavailable' : 'server unreachable');
    adminLink.hidden = true;
    if (!(error instanceof AuthError)) return null;
    return null;
  }
}

async function askForKey(reason) {
  if (promptOpen) return;
  promptOpen = true;
  try {
    const key = await apiKeyDialog(reason);
    if (key === null) return;
    setApiKey(key);
    updateKeyButton();
    route();
  } finally {
    promptOpen = false;
  }
}

function updateKeyButton() {
  const button = document.getElementById('key-button');
  button.textContent = getApiKey() ? 'API key ✓' : 'API key';
}

window.addEventListener('banditkit:auth', (ev) => {
  const error = ev.detail;
  const had = Boolean(getApiKey());
  if (had) setApiKey('');
  updateKeyButton();
  const reason = error.status === 403
    ? 'The server did not accept this API key (403). Check it and enter it again.'
    : had
      ? 'The server did not accept the API key (401). Enter a valid key.'
      : 'This server needs an API key (401). Enter one to continue.';
  askForKey(reason);
});

document.getElementById('key-button').addEventListener('click', () => askForKey(null));
document.getElementById('base-button').addEventListener('click', async () => {
  const chosen = await apiBaseDialog(localStorage.getItem('banditkit.apiBase') ?? '', defaultApiBase());
  if (chosen === null) return;
  setApiBase(chosen);
  document.getElementById('base-button').title = `API: ${getApiBase()}`;
  await checkHealth();
  route();
});

// The views restore scroll positions themselves, once their content has loaded.
window.history.scrollRestoration = 'manual';
window.addEventListener('hashchange', route);
// The skip link moves focus without touching the hash the router reads.
document.querySelector('.skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

async function start() {
  updateKeyButton();
  document.getElementById('base-button').title = `API: ${getApiBase()}`;
  if (typeof window.Chart !== 'function') {
    document.getElementById('banner').hidden = false;
    replace(document.getElementById('banner'),
      errorBox({ message: 'Charts are unavailable: vendor/chart.umd.min.js did not load.' }));
  }
  const health = await checkHealth();
  if (health?.auth_required && !getApiKey()) askForKey('This server needs an API key.');
  route();
}

start();
