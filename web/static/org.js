// Organisations (PROTOCOL.md section 12) as the page shows them: links,
// what a key is to an organisation, and reading GET /api/v1/orgs/{org}.

import { get, APIError } from './api.js';
import { h, time, num, label } from './dom.js';

/** orgHash is the page of one organisation. */
export function orgHash(id) {
  return `#/org/${encodeURIComponent(id)}`;
}

/**
 * isKeyID tells a plain publisher's peer ID (an Ed25519 key, written
 * "12D3KooW…") from an organisation's ID, which never starts so.
 */
export function isKeyID(id) {
  return typeof id === 'string' && id.startsWith('12D3KooW');
}

/**
 * loadOrg fetches an organisation, or resolves to null when this node
 * holds none by that ID (404). Other failures throw.
 */
export async function loadOrg(id, signal) {
  try {
    return await get(`orgs/${encodeURIComponent(id)}`, null, 'load the organisation', signal);
  } catch (err) {
    if (err instanceof APIError && err.status === 404) return null;
    throw err;
  }
}

/** kinds lists record kinds for people: "practices, retractions". */
export function kinds(may) {
  const names = { practice: 'practices', retract: 'retractions', profile: 'profile', members: 'membership lists', experience: 'experience records' };
  return (may ?? []).map((k) => names[k] ?? label(k)).join(', ');
}

/** head reads the head operation of an organisation: { hash, seq }. */
export function headOf(org) {
  return org.head ? { hash: org.head, seq: org.head_seq } : null;
}

/**
 * keyStatus says what key is to org by its head, for a record signed at
 * time with seq: { role, text } where role is rotation, delegated,
 * expired, revoked or unknown, and text a sentence part ("a current
 * delegate…").
 */
export function keyStatus(org, key, at, seq) {
  const rot = (org.keys ?? []).indexOf(key);
  if (rot >= 0) {
    return { role: 'rotation', text: [`rotation key ${rot + 1} of ${(org.keys ?? []).length}; rotation keys sign only the organisation's operations`] };
  }
  const d = (org.delegations ?? []).find((x) => x.key === key);
  if (d) {
    const until = d.until || null;
    if (until && at && new Date(at) >= new Date(until)) {
      return { role: 'expired', text: ['a delegate whose delegation ended on ', time(until), ', before this record was signed'] };
    }
    return { role: 'delegated', text: [`a current delegate of the organisation (may publish ${kinds(d.may)}`,
      until ? [', until ', time(until)] : null, ')'] };
  }
  const r = (org.revocations ?? []).find((x) => x.key === key);
  if (r) {
    const kept = at && seq != null ? new Date(at) < new Date(r.from) && seq <= r.through : null;
    return { role: 'revoked', text: ['revoked from ', time(r.from), `: its records signed before then, up to sequence number ${num(r.through)}, stay valid`,
      kept === null ? null : kept ? '; this record is one of them' : '; this record is not one of them'] };
  }
  return { role: 'unknown', text: ['not named by the organisation\u2019s current operations'] };
}

/** idLink links a publisher ID: an organisation to its page, a plain publisher to its practices. */
export function idLink(id, name) {
  const href = isKeyID(id) ? `#/search?publisher=${encodeURIComponent(id)}` : orgHash(id);
  return h('a', { href, dataset: { id } }, name || h('code', { class: 'peer' }, id));
}
