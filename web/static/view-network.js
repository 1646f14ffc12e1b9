// The network view: this node, how it is reached (reachability, relays,
// hole punches, the DHT), its catalogue, gossip, peers, syncs and the
// organisations it holds (GET /api/v1/status, /api/v1/peers and
// /api/v1/orgs).

import { get, APIError } from './api.js';
import { h, replace, num, plural, time } from './dom.js';
import { orgHash } from './org.js';

/** render shows the node's network status in main. */
export async function render(main, route, ctx) {
  replace(main, h('section', { id: 'network', class: 'network-view', 'aria-busy': 'true' },
    h('h1', { class: 'view-title', tabindex: '-1' }, 'Network'),
    h('div', { class: 'skeleton block', 'aria-hidden': 'true' })));
  document.title = 'Network – Khantara';

  const [st, peers, orgs] = await Promise.all([
    get('status', null, 'load the node status', ctx.signal),
    get('peers', null, 'load the connected peers', ctx.signal),
    get('orgs', null, 'load the organisations', ctx.signal).catch((err) => {
      // A node without the organisations route answers 404: show none.
      if (err instanceof APIError && err.status === 404) return [];
      throw err;
    }),
  ]);
  const orgList = (orgs ?? []).slice().sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));

  const rejected = Object.entries(st.gossip?.rejected ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const ignored = Object.entries(st.gossip?.ignored ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const rejectedTotal = rejected.reduce((sum, [, n]) => sum + n, 0);
  const ignoredTotal = ignored.reduce((sum, [, n]) => sum + n, 0);
  const dd = (id, attrs, ...value) => h('dd', { id, ...attrs }, ...value);

  replace(main, h('section', { id: 'network', class: 'network-view' },
    h('h1', { class: 'view-title', tabindex: '-1' }, 'Network'),
    h('section', { class: 'panel wide', 'aria-labelledby': 'h-node' },
      h('h2', { id: 'h-node' }, 'This node'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Peer ID'), dd('peer-id', {}, h('code', { class: 'peer' }, st.peer_id)),
        h('dt', {}, 'Organisation'),
        dd('organisation', { class: st.organisation ? null : 'muted' }, st.organisation || 'no profile published yet'),
        h('dt', {}, 'Network'), h('dd', {}, st.network),
        h('dt', {}, 'Running since'), h('dd', {}, time(st.started_at)),
        h('dt', {}, 'Catalogue digest'), h('dd', {}, h('code', { class: 'hash' }, st.digest)),
        h('dt', {}, 'Addresses'),
        h('dd', {}, h('ul', { id: 'addrs', class: 'addrs' }, (st.addrs ?? []).map((a) => h('li', {}, h('code', {}, a))))))),
    st.reach ? reachPanel(st.reach) : null,
    h('section', { class: 'panel', 'aria-labelledby': 'h-catalogue' },
      h('h2', { id: 'h-catalogue' }, 'Catalogue'),
      h('dl', { id: 'counts', class: 'counts' },
        count('practices', 'Practices', st.practices),
        count('retracted', 'Retracted', st.retracted),
        count('profiles', 'Profiles', st.profiles),
        count('publishers', 'Publishers', st.publishers))),
    h('section', { class: 'panel', 'aria-labelledby': 'h-gossip' },
      h('h2', { id: 'h-gossip' }, 'Gossip since start'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Accepted'), h('dd', {}, num(st.gossip?.accepted ?? 0)),
        h('dt', {}, 'Rejected'),
        dd('rejected', { class: rejectedTotal ? 'warn' : null },
          h('span', { class: 'total' }, num(rejectedTotal)), reasons(rejected)),
        h('dt', {}, 'Ignored'),
        h('dd', {}, h('span', { class: 'total' }, num(ignoredTotal)), reasons(ignored)),
        h('dt', {}, 'Equivocations'),
        dd('equivocations', { class: st.equivocations ? 'warn' : null }, num(st.equivocations))),
      h('p', { class: 'note' },
        'Rejected messages failed a check (signature, size, format); an equivocation is a publisher ' +
        'signing two different announcements with one sequence number.')),
    h('section', { class: 'panel wide', 'aria-labelledby': 'h-peers' },
      h('h2', { id: 'h-peers' }, `Connected peers (${num(peers.length)})`),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'h-peers' },
        h('table', { id: 'peers' },
          h('thead', {}, h('tr', {}, ['Peer ID', 'Organisation', 'Direction', 'Connected since', 'Score', 'Last sync']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, peers.map(peerRow)))),
      peers.length ? null : h('p', { class: 'empty' }, 'No peer is connected. The node keeps dialling its bootstrap peers and the ones it knows.')),
    h('section', { class: 'panel wide', 'aria-labelledby': 'h-orgs' },
      h('h2', { id: 'h-orgs' }, `Organisations (${num(orgList.length)})`),
      orgList.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'h-orgs' },
        h('table', { id: 'orgs' },
          h('thead', {}, h('tr', {}, ['Organisation', 'ID', 'Practices'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, orgList.map(orgRow))))
        : h('p', { class: 'empty' }, 'This node holds no organisation: every publisher it knows publishes with its own key.')),
    st.syncs?.length ? h('section', { class: 'panel wide', 'aria-labelledby': 'h-syncs' },
      h('h2', { id: 'h-syncs' }, 'Last sync with each peer'),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'h-syncs' },
        h('table', { id: 'syncs' },
          h('thead', {}, h('tr', {}, ['Peer ID', 'When', 'Fetched', 'Applied', 'Served', 'Bytes in / out', 'Outcome']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, st.syncs.map(syncRow))))) : null));
}

/** reachPanel shows how the node is reached (status.reach). */
function reachPanel(r) {
  const dd = (id, attrs, ...value) => h('dd', { id, ...attrs }, ...value);
  const hp = r.hole_punches;
  const d = r.dht;
  const relay = r.relaying ? 'offered to the network’s peers' : r.relay_service === 'off' ? 'off' : 'not offered (only while public)';
  return h('section', { class: 'panel wide', 'aria-labelledby': 'h-reach' },
    h('h2', { id: 'h-reach' }, 'Reachability'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Reachability'),
      dd('reachability', { class: r.reachability === 'private' && !r.reservations.length ? 'warn' : null, dataset: { state: r.reachability } },
        `${r.reachability} (${r.forced ? 'set in the configuration' : 'AutoNAT'})`),
      h('dt', {}, 'NAT type'), dd('nat-type', {}, `TCP ${r.nat_tcp}, UDP ${r.nat_udp}`),
      h('dt', {}, 'Relay service'), dd('relay-service', {}, relay),
      h('dt', {}, 'Relayed through'),
      dd('reservations', {}, r.reservations.length
        ? h('ul', { class: 'addrs' }, r.reservations.map((res) => h('li', { dataset: { relay: res.relay } },
          h('code', { class: 'peer' }, res.relay), ` since ${time(res.since)}`)))
        : 'no relay'),
      h('dt', {}, 'Connections'),
      dd('connections', { dataset: { direct: r.connections.direct, relayed: r.connections.relayed } },
        `${num(r.connections.direct)} direct, ${num(r.connections.relayed)} relayed`),
      h('dt', {}, 'Hole punching'),
      dd('hole-punches', { dataset: { attempts: hp.attempts, successes: hp.successes } }, r.hole_punching
        ? `${num(hp.attempts)} attempted, ${num(hp.successes)} succeeded, ${num(hp.failures)} failed`
        : 'off'),
      h('dt', {}, 'DHT'),
      dd('dht', { dataset: { mode: d.mode, table: d.routing_table } }, d.mode === 'off'
        ? 'off: no lookup by peer ID, no rendezvous'
        : `${d.mode} (setting ${d.configured}), ${plural(d.routing_table, 'peer', 'peers')} in the routing table, ` +
          `${num(d.lookups)} lookups by ID (${num(d.found)} found)`)),
    h('p', { class: 'note' },
      'A private node is reached through the relays it holds a slot with; hole punching then ' +
      'replaces a relayed connection with a direct one when both NATs allow it.'));
}

function count(field, title, n) {
  return h('div', {}, h('dt', {}, title), h('dd', { dataset: { field } }, num(n ?? 0)));
}

function reasons(list) {
  return list.length
    ? h('ul', { class: 'reasons' }, list.map(([reason, n]) => h('li', { dataset: { reason } }, `${reason.replaceAll('_', ' ')}: ${num(n)}`)))
    : null;
}

function peerRow(p) {
  const s = p.last_sync;
  return h('tr', { dataset: { peer: p.id } },
    h('td', {}, h('code', { class: 'peer' }, p.id)),
    h('td', {}, p.organisation || '—'),
    h('td', {}, p.direction),
    h('td', {}, time(p.since)),
    h('td', { class: 'num' }, p.score.toFixed(2)),
    h('td', { class: s?.error ? 'warn' : null }, s
      ? [time(s.at), h('br'), `fetched ${num(s.fetched)}, served ${num(s.served)}`, s.error ? [h('br'), `failed: ${s.error}`] : null]
      : 'not yet'));
}

function orgRow(o) {
  return h('tr', { dataset: { org: o.id } },
    h('td', {}, h('a', { href: orgHash(o.id) }, o.name || o.id)),
    h('td', {}, h('code', { class: 'peer' }, o.id)),
    h('td', { class: 'num' }, o.practices != null ? num(o.practices) : '—'));
}

function syncRow(s) {
  return h('tr', {},
    h('td', {}, h('code', { class: 'peer' }, s.peer)),
    h('td', {}, time(s.at)),
    h('td', { class: 'num' }, num(s.fetched)),
    h('td', { class: 'num' }, num(s.applied)),
    h('td', { class: 'num' }, num(s.served)),
    h('td', { class: 'num' }, `${bytes(s.bytes_received)} / ${bytes(s.bytes_sent)}`),
    h('td', { class: s.error ? 'warn' : null }, s.error ? `failed: ${s.error}` : `ok in ${plural(Math.round(s.seconds * 1000), 'ms', 'ms')}`));
}

function bytes(n) {
  return n < 1024 ? `${num(n)} B` : n < 1 << 20 ? `${num(Math.round(n / 1024))} KiB` : `${num(Math.round(n / (1 << 20)))} MiB`;
}
