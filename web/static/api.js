// Reading the node's JSON API (API.md), same origin, relative URLs.

/** APIError is a failed request; message is one line for the reader. */
export class APIError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'APIError';
    this.status = status;
  }
}

/**
 * get fetches /api/v1/<path> with params (URLSearchParams or object) and
 * returns the decoded JSON. what says what the request is for ("load the
 * search results") and starts the error message. signal aborts it.
 */
export async function get(path, params, what, signal) {
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
  if (!res.ok) {
    const detail = body && typeof body.error === 'string' ? body.error : res.statusText;
    throw new APIError(`Could not ${what}: ${detail} (HTTP ${res.status}).`, res.status);
  }
  if (body === null) throw new APIError(`Could not ${what}: the node's answer was not JSON.`, res.status);
  return body;
}
