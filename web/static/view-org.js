// The organisation view: one organisation's identity (PROTOCOL.md section
// 12) as this node holds it: name, ID, rotation keys, delegations,
// revocations, identity equivocations, the membership lists it publishes
// and those it is on, and its practices (GET /api/v1/orgs/{org} and the
// search with publisher=ID).

import { get } from './api.js';
import { h, replace, num, plural, time } from './dom.js';
import { card } from './view-search.js';
import { searchHash } from './query.js';
import { loadOrg, kinds, headOf, idLink, orgHash } from './org.js';

// PRACTICES is the number of the organisation's practices shown here; the
// rest are a link away, in the search view.
const PRACTICES = 20;

/** render shows the organisation route.id in main. */
export async function render(main, route, ctx) {
  const { id } = route;
  replace(main, h('article', { id: 'org', class: 'org-view', 'aria-busy': 'true' },
    h('h1', { id: 'org-name', tabindex: '-1' }, 'Organisation'),
    h('div', { class: 'skeleton block', 'aria-hidden': 'true' })));
  document.title = 'Organisation – Khantara';

  const practicesQuery = new URLSearchParams({ publisher: id });
  const [org, found] = await Promise.all([
    loadOrg(id, ctx.signal),
    get('search', new URLSearchParams({ publisher: id, limit: String(PRACTICES) }),
      'load the organisation\u2019s practices', ctx.signal).catch((err) => {
      if (err.name === 'AbortError') throw err;
      return null; // the organisation shows without them
    }),
  ]);
  if (!org) {
    replace(main, h('article', { id: 'org', class: 'org-view' },
      h('h1', { id: 'org-name', tabindex: '-1' }, 'Unknown organisation'),
      h('p', {}, 'This node holds no organisation with the ID ', h('code', { class: 'peer' }, id),
        '. Its operations may not have reached this node yet.')));
    document.title = 'Unknown organisation – Khantara';
    throw new Error(`This node holds no organisation ${id}.`);
  }

  const hd = headOf(org);
  const equivocations = org.equivocations ?? [];
  const forks = org.forks ?? [];
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'Organisation ID'), h('dd', { id: 'org-id' }, h('code', { class: 'peer' }, org.id ?? id)),
    org.adopts ? [h('dt', {}, 'Formerly'), h('dd', { id: 'org-adopts' }, h('code', { class: 'peer' }, org.adopts),
      ' (the plain publisher this organisation continues)')] : null,
    hd ? [h('dt', {}, 'Current operation'), h('dd', { id: 'org-head' }, h('code', { class: 'hash' }, hd.hash),
      hd.seq != null ? ` (sequence number ${num(hd.seq)})` : null)] : null,
    org.practices != null ? [h('dt', {}, 'Practices held here'), h('dd', { id: 'org-practices' }, num(org.practices))] : null);

  replace(main, h('article', { id: 'org', class: 'org-view', dataset: { org: org.id ?? id } },
    h('p', { class: 'back' }, h('a', { href: '#/network' }, '‹ All organisations')),
    h('h1', { id: 'org-name', tabindex: '-1' }, org.name || id),
    equivocations.length ? h('div', { id: 'org-equivocations', class: 'notice warn', role: 'note' },
      h('h2', {}, 'Warning: conflicting operations'),
      h('p', {}, 'A rotation key of this organisation signed more than one operation after the same one. ' +
        'Every node picks the same branch by the keys\u2019 priority; the others are kept as evidence.'),
      h('ul', {}, equivocations.map(equivocation))) : null,
    forks.length ? h('div', { id: 'org-forks', class: 'notice warn', role: 'note' },
      h('h2', {}, `Operations off the current chain (${num(forks.length)})`),
      h('p', {}, 'These operations of the organisation are not part of its current key state: overturned by a ' +
        'higher-priority rotation key, waiting for an operation they follow, or never valid.'),
      h('ul', {}, forks.map(fork))) : null,
    h('section', { class: 'sheet-section', 'aria-labelledby': 'h-org-identity' },
      h('h2', { id: 'h-org-identity' }, 'Identity'), facts),
    keysSection(org.keys ?? []),
    delegatesSection(org.delegations ?? []),
    revokedSection(org.revocations ?? []),
    listsSection(org.lists ?? []),
    memberOfSection(org.member_of ?? []),
    practicesSection(found, practicesQuery)));
  document.title = `${org.name || id} – Khantara`;
}

// forkStates explain protocol.OpState for people.
const forkStates = {
  abandoned: 'overturned by a higher-priority key',
  pending: 'waiting for the operation it follows',
  broken: 'can never be part of the chain',
};

function fork(op) {
  return h('li', { dataset: { hash: op.hash, state: op.state } }, h('code', { class: 'hash' }, op.hash),
    ` (sequence number ${num(op.seq)}, signed by `, h('code', { class: 'peer' }, op.signer), `): ${forkStates[op.state] ?? op.state}`);
}

function equivocation(e) {
  const hashes = e.hashes ?? [];
  return h('li', {}, 'Signed by ', h('code', { class: 'peer' }, e.signer ?? '?'),
    e.prev ? [' after ', h('code', { class: 'hash' }, e.prev)] : null,
    hashes.length ? [': ', hashes.map((x, i) => [i ? ', ' : '', h('code', { class: 'hash' }, x)])] : null);
}

function keysSection(keys) {
  return h('section', { class: 'sheet-section', 'aria-labelledby': 'h-org-keys' },
    h('h2', { id: 'h-org-keys' }, 'Rotation keys'),
    h('p', { class: 'note' }, 'Highest priority first. They sign the organisation\u2019s operations, never its records; ' +
      'a higher-priority key can overturn what a lower one signed until it ratifies it.'),
    h('ol', { id: 'org-keys', class: 'keys' }, keys.map((k, i) => h('li', { dataset: { key: k } },
      h('code', { class: 'peer' }, k), i === 0 ? h('span', { class: 'muted' }, ' (highest priority)') : null))));
}

function delegatesSection(list) {
  return h('section', { class: 'sheet-section', 'aria-labelledby': 'h-org-delegates' },
    h('h2', { id: 'h-org-delegates' }, `Delegated keys (${num(list.length)})`),
    list.length ? table('org-delegates', 'h-org-delegates', ['Key', 'May publish', 'Until'], list.map((d) => h('tr', { dataset: { key: d.key } },
      h('td', {}, h('code', { class: 'peer' }, d.key)),
      h('td', {}, kinds(d.may)),
      h('td', {}, d.until ? time(d.until) : 'no end'))))
      : h('p', { class: 'empty' }, 'No key may publish for this organisation now.'));
}

function revokedSection(list) {
  return h('section', { class: 'sheet-section', 'aria-labelledby': 'h-org-revoked' },
    h('h2', { id: 'h-org-revoked' }, `Revoked keys (${num(list.length)})`),
    list.length ? [
      table('org-revoked', 'h-org-revoked', ['Key', 'Could publish', 'Revoked from', 'Valid through sequence number'], list.map((r) => h('tr', { dataset: { key: r.key } },
        h('td', {}, h('code', { class: 'peer' }, r.key)),
        h('td', {}, kinds(r.may)),
        h('td', {}, time(r.from)),
        h('td', { class: 'num' }, num(r.through))))),
      h('p', { class: 'note' }, 'A revoked key\u2019s records stay valid when signed before the revocation and numbered at most as shown; no node keeps its later ones.'),
    ] : h('p', { class: 'empty' }, 'No key was revoked.'));
}

function listsSection(lists) {
  if (!lists.length) return null;
  return h('section', { id: 'org-lists', class: 'sheet-section', 'aria-labelledby': 'h-org-lists' },
    h('h2', { id: 'h-org-lists' }, 'Membership lists it publishes'),
    lists.map((l) => h('div', { class: 'member-list', dataset: { list: l.list } },
      h('h3', {}, l.title || l.list, ' ', h('span', { class: 'muted' }, `(${plural((l.members ?? []).length, 'member')})`)),
      h('ul', {}, (l.members ?? []).map((m) => h('li', { dataset: { member: m.id } }, idLink(m.id, m.name)))))));
}

function memberOfSection(entries) {
  if (!entries.length) return null;
  return h('section', { id: 'org-member-of', class: 'sheet-section', 'aria-labelledby': 'h-org-member-of' },
    h('h2', { id: 'h-org-member-of' }, 'Member of'),
    h('ul', {}, entries.map((e) => h('li', { dataset: { org: e.publisher, list: e.list } }, e.title || e.list, ', published by ',
      h('a', { href: orgHash(e.publisher) }, e.publisher_name || e.publisher)))));
}

function practicesSection(found, query) {
  const hits = found?.hits ?? [];
  const total = found?.total ?? hits.length;
  return h('section', { class: 'sheet-section', 'aria-labelledby': 'h-org-practices' },
    h('h2', { id: 'h-org-practices' }, 'Practices'),
    found === null ? h('p', { class: 'empty' }, 'The search index cannot list them now. ',
      h('a', { href: searchHash(query) }, 'Try the search'), '.') : null,
    found && !hits.length ? h('p', { class: 'empty' }, 'This node holds no practice of this organisation.') : null,
    hits.length ? h('ol', { id: 'results', class: 'results compact' }, hits.map(card)) : null,
    total > hits.length ? h('p', {}, h('a', { href: searchHash(query) }, `All ${plural(total, 'practice')} in the search`)) : null);
}

function table(id, labelledBy, heads, rows) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': labelledBy },
    h('table', { id },
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}
