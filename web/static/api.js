// Reading the node's JSON API (API.md), same origin, relative URLs.

/** APIError is a failed request; message is one line for the reader. */
export class APIError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'APIError';
    this.status = status;
  }
}

// The notice shown while the node's search index is incomplete: the API
// then answers search routes with 503, a JSON error saying how far the
// index is, and Retry-After (API.md). get shows the message and retries.
const indexNotice = () => document.getElementById('index-notice');

function showIndexNotice(message) {
  const box = indexNotice();
  if (!box) return;
  if (message) {
    const what = message.split('; try again')[0];
    box.textContent = `${what[0].toUpperCase()}${what.slice(1)}. This page tries again by itself.`;
    box.hidden = false;
  } else if (!box.hidden) {
    box.hidden = true;
    box.textContent = '';
  }
}

// wait resolves after ms, or rejects with an AbortError when signal aborts.
function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    }, { once: true });
  });
}

/**
 * get fetches /api/v1/<path> with params (URLSearchParams or object) and
 * returns the decoded JSON. what says what the request is for ("load the
 * search results") and starts the error message. signal aborts it.
 */
export async function get(path, params, what, signal) {
  for (;;) {
    const { res, body } = await fetchJSON(path, params, what, signal);
    if (res.status === 503 && body && body.index) {
      // The search index is being rebuilt or catching up: say so, and
      // ask again after Retry-After.
      showIndexNotice(body.error);
      const after = Math.min(30, Math.max(1, Number(res.headers.get('Retry-After')) || 2));
      await wait(after * 1000, signal);
      continue;
    }
    if (res.ok && (path === 'search' || path === 'stats')) showIndexNotice(null);
    if (!res.ok) {
      const detail = body && typeof body.error === 'string' ? body.error : res.statusText;
      throw new APIError(`Could not ${what}: ${detail} (HTTP ${res.status}).`, res.status);
    }
    if (body === null) throw new APIError(`Could not ${what}: the node's answer was not JSON.`, res.status);
    return body;
  }
}

async function fetchJSON(path, params, what, signal) {
  const qs = new URLSearchParams(params ?? {}).toString();
  const url = `/api/v1/${path}${qs ? '?' + qs : ''}`;
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new APIError(`Could not ${what}: the node did not answer. Is the daemon still running?`, 0);
  }
  let body = null;
  try {
    body = await res.json();
  } catch (err) {
    if (err.name === 'AbortError') throw err;
  }
  return { res, body };
}
