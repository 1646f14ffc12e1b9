// Khantara's web page: a hash router over six read-only views.
//
//   #/  or  #/search?<search params>   search (view-search.js)
//   #/practice/<publisher>/<id>        one practice (view-practice.js)
//   #/charts?<search filters>          charts (view-charts.js)
//   #/map?<search filters>             the map of practices (view-map.js)
//   #/network                          this node, its peers and the organisations (view-network.js)
//   #/org/<organisation ID>            one organisation (view-org.js)
//
// <body data-view> names the view; <body data-state> is "loading" while a
// view fetches, "ready" once it is fully rendered, "error" when a fetch
// failed (the message is in #error).

import { h, replace } from './dom.js';
import { render as search } from './view-search.js';
import { render as practice } from './view-practice.js';
import { render as charts } from './view-charts.js';
import { render as network } from './view-network.js';
import { render as org } from './view-org.js';
import { render as map, mapHash } from './view-map.js';

const views = { search, practice, charts, map, network, org, notfound };
const body = document.body;
const main = document.getElementById('main');
const errorBox = document.getElementById('error');

let running = null; // AbortController of the render under way
let shown = null; // location.hash of the render under way or done
let lastSearch = '#/';
let firstRender = true;

function parse(hash) {
  const raw = hash.startsWith('#/') ? hash.slice(1) : '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { view: 'notfound' };
  }
  const [head, ...rest] = parts;
  if (!head || (head === 'search' && !rest.length)) return { view: 'search', params };
  if (head === 'practice' && rest.length === 2) return { view: 'practice', publisher: rest[0], id: rest[1] };
  if (head === 'charts' && !rest.length) return { view: 'charts', params };
  if (head === 'map' && !rest.length) return { view: 'map', params };
  if (head === 'network' && !rest.length) return { view: 'network' };
  if (head === 'org' && rest.length === 1) return { view: 'org', id: rest[0] };
  return { view: 'notfound' };
}

async function notfound() {
  replace(main, h('h1', { class: 'view-title', tabindex: '-1' }, 'Page not found'),
    h('p', {}, 'This address names no view of the page. ', h('a', { href: '#/' }, 'Search the practices'), '.'));
  document.title = 'Not found – Khantara';
  throw new Error(`There is no page at ${location.hash}.`);
}

/**
 * navigate goes to hash. It marks the page as loading at once, so nothing
 * reads a stale "ready" between the click and the hashchange event.
 */
export function navigate(hash) {
  if (normal(hash) === location.hash) {
    route();
    return;
  }
  body.dataset.state = 'loading';
  location.hash = hash;
}

// normal is hash as location.hash would spell it once assigned.
function normal(hash) {
  return new URL(hash, location.href).hash;
}

async function route() {
  running?.abort();
  const ctl = new AbortController();
  running = ctl;
  shown = location.hash;
  const r = parse(location.hash);
  const changed = body.dataset.view !== r.view;
  if (r.view === 'search') {
    lastSearch = location.hash || '#/';
    // The map in the navigation is the map of the last search.
    const nav = document.querySelector('a[data-nav="map"]');
    if (nav) nav.href = mapHash(r.params);
  }
  body.dataset.view = r.view;
  body.dataset.state = 'loading';
  for (const a of document.querySelectorAll('a[data-nav]')) {
    if (a.dataset.nav === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  errorBox.hidden = true;
  errorBox.replaceChildren();
  if (changed) window.scrollTo(0, 0);

  const ctx = { signal: ctl.signal, navigate, lastSearch: () => lastSearch };
  try {
    await views[r.view](main, r, ctx);
    if (running !== ctl) return;
    body.dataset.state = 'ready';
    // Move the focus to the new view's heading, as a page load would
    // move the reader to the top; not on the first load.
    if (changed && !firstRender) main.querySelector('h1')?.focus({ preventScroll: true });
  } catch (err) {
    if (running !== ctl || err.name === 'AbortError') return;
    replace(errorBox, h('p', {}, err.message || String(err)),
      h('button', { type: 'button', onclick: () => route() }, 'Try again'));
    errorBox.hidden = false;
    body.dataset.state = 'error';
  } finally {
    if (running === ctl) firstRender = false;
  }
}

const isRoute = (hash) => hash === '' || hash.startsWith('#/');

// In-page links (#main, the skip link) are not routes.
window.addEventListener('hashchange', () => {
  if (isRoute(location.hash)) route();
});

// popstate comes during the navigation itself, hashchange only after it:
// mark the page as loading at once, so nothing reads a stale "ready".
window.addEventListener('popstate', () => {
  if (isRoute(location.hash) && location.hash !== shown) body.dataset.state = 'loading';
});

// A plain click on a link to another view marks the page as loading
// before the hashchange event, like navigate.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href^="#/"]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.hash !== location.hash) body.dataset.state = 'loading';
});

document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

route();
