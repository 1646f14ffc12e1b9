// The charts view: the catalogue, or a query's practices, by country,
// dimension, start year and funding source (GET /api/v1/stats).

import { get } from './api.js';
import { mount } from './charts.js';
import { h, add, replace, num, eur, eurShort, plural, label, countryName } from './dom.js';
import { filtersOnly, searchHash, describe } from './query.js';

const byValue = (a, b) => b.value - a.value || a.key.localeCompare(b.key);

const CHARTS = [
  {
    id: 'chart-country', by: 'country', kind: 'bars', title: 'Practices by country',
    row: (g) => ({ key: g.key, label: countryName(g.key), value: g.practices, text: num(g.practices) }),
    sort: byValue,
    caption: (st, rows) => `${plural(st.total.practices, 'practice')} in ${plural(rows.length, 'country', 'countries')}.`,
  },
  {
    id: 'chart-dimension', by: 'dimension', kind: 'bars', title: 'Practices by dimension of integration',
    row: (g) => ({ key: g.key, label: label(g.key), value: g.practices, text: num(g.practices) }),
    sort: byValue,
    caption: (st) => `${plural(st.total.practices, 'practice')}; one with several dimensions counts in each.`,
  },
  {
    id: 'chart-year', by: 'year', kind: 'timeline', title: 'Practices by start year',
    row: (g) => ({ key: g.key, label: g.key, value: g.practices, text: num(g.practices) }),
    sort: (a, b) => Number(a.key) - Number(b.key),
    caption: (st, rows) => rows.length
      ? `${plural(st.total.practices, 'practice')} started from ${rows[0].key} to ${rows[rows.length - 1].key}; one bar per year with practices.`
      : 'No start years.',
  },
  {
    id: 'chart-funding', by: 'source', kind: 'bars', title: 'Funding in euros by source',
    row: (g) => ({ key: g.key, label: label(g.key), value: g.funding_eur, text: eurShort(g.funding_eur) }),
    sort: byValue,
    caption: (st) => `${eur(st.total.funding_eur)} in total, from the ${num(st.total.funded)} of ` +
      `${plural(st.total.practices, 'practice')} that give an amount; one with several sources counts in full under each.`,
  },
];

/** render shows the charts of route.params' filters in main. */
export async function render(main, route, ctx) {
  const params = filtersOnly(route.params);
  const filters = describe(params);
  const scope = h('p', { class: 'scope', 'aria-live': 'polite' }, ' ');
  const figures = CHARTS.map((c) => {
    const body = h('div', { class: `chart-body pending ${c.kind}` }, h('div', { class: 'skeleton block', 'aria-hidden': 'true' }));
    const caption = h('figcaption', {}, h('span', { class: 'chart-title' }, c.title), h('span', { class: 'chart-note' }, ' '));
    return { c, body, caption, figure: h('figure', { id: c.id, class: 'chart' }, caption, body) };
  });
  replace(main, h('div', { class: 'charts-view' },
    h('h1', { class: 'view-title', tabindex: '-1' }, filters.length ? 'Charts of a search' : 'Charts of the catalogue'),
    scope,
    h('div', { class: 'chart-grid' }, figures.map((f) => f.figure))));
  document.title = 'Charts – Khantara';

  const stats = await Promise.all(CHARTS.map((c) => {
    const p = new URLSearchParams(params);
    p.set('by', c.by);
    return get('stats', p, `count the practices by ${c.by}`, ctx.signal);
  }));

  const total = stats[0].total.practices;
  replace(scope, filters.length
    ? [`${plural(total, 'practice')} matching: ${filters.join('; ')}. `,
      h('a', { href: searchHash(params) }, 'Show them'), ' · ', h('a', { href: '#/charts' }, 'Chart the whole catalogue')]
    : [`All ${plural(total, 'practice')} this node holds. `, h('a', { href: '#/' }, 'Search them')]);

  figures.forEach(({ c, body, caption, figure }, i) => {
    const st = stats[i];
    const rows = st.groups.map(c.row).sort(c.sort);
    caption.lastChild.textContent = ' ' + c.caption(st, rows.filter((r) => r.value > 0));
    const desc = rows.filter((r) => r.value > 0).map((r) => `${r.label}: ${r.text}`).join('; ') || 'nothing to show';
    body.replaceChildren();
    body.classList.remove('pending');
    mount(body, { id: `${c.id}-svg`, title: c.title, desc, kind: c.kind, rows });
    add(figure, dataTable(c, st));
  });
}

// dataTable is every figure of the stats, folded away under the chart.
function dataTable(c, st) {
  const name = { country: 'Country', dimension: 'Dimension', year: 'Start year', source: 'Funding source' }[c.by];
  const groups = [...st.groups].sort((a, b) => c.sort(c.row(a), c.row(b)));
  return h('details', { class: 'chart-data' },
    h('summary', {}, 'Show the figures'),
    h('div', { class: 'table-wrap' },
      h('table', {},
        h('thead', {}, h('tr', {}, [name, 'Practices', 'With an amount', 'Funding (EUR)', 'Beneficiaries']
          .map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
        h('tbody', {}, groups.map((g) => h('tr', {},
          h('th', { scope: 'row' }, c.row(g).label),
          h('td', { class: 'num' }, num(g.practices)),
          h('td', { class: 'num' }, num(g.funded)),
          h('td', { class: 'num' }, eur(g.funding_eur)),
          h('td', { class: 'num' }, num(g.beneficiaries))))))));
}
