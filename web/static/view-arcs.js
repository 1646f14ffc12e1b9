// The map view's account of its arcs (arcs.js): a line of the legend and
// a table listing every adaptation of the practices shown, with the
// reason when it has no arc.

import { h, num, plural, years, countryName, practiceHash } from './dom.js';
import { idLink } from './org.js';
import { REASONS } from './arcs.js';

/** arcKey is the data-key of an adaptation's arc and table row: its author and slot. */
export function arcKey(x) {
  return `${x.publisher}/${x.slot}`;
}

/**
 * arcLegend is the legend's paragraph on arcs: what an arc is, how many
 * are drawn, and how many adaptations have none, and why. filtered says
 * whether the map shows a search rather than the whole catalogue.
 */
export function arcLegend({ rows, complete }, filtered) {
  const drawn = rows.filter((r) => r.arc === 'drawn').length;
  const approx = rows.filter((r) => r.arc === 'drawn' && (r.from.by === 'country' || r.to.by === 'country')).length;
  const why = Object.entries(REASONS).map(([k, [, text]]) => [k, text, rows.filter((r) => r.arc === k).length])
    .filter(([, , n]) => n).map(([k, text, n]) => h('span', { dataset: { reason: k } }, `${num(n)} ${text}`));
  return h('p', { id: 'map-arcs-legend', dataset: { drawn, adaptations: rows.length } },
    h('span', { class: 'arc-swatch', 'aria-hidden': 'true' }),
    ` An arrow is an adaptation: from the original practice’s place to where another organisation adapted it. `,
    `${num(drawn)} of ${plural(rows.length, 'adaptation')} of ${filtered ? 'these' : 'the'} practices drawn`,
    approx ? [`; ${num(approx)} dashed: an end known only by its country, drawn at the country’s centre`] : null,
    why.length ? ['. Not drawn: ', why.flatMap((w, i) => (i ? ['; ', w] : [w]))] : null, '.',
    complete ? null : ' This node holds more adaptations, or the search more practices, than the map reads: some are left out.');
}

// where is an end of an arc for people: its place and how it was placed.
function where(end) {
  if (!end) return '–';
  if (end.by !== 'country') return end.label;
  return `${countryName(end.country)} (${end.country}; ${end.missing ? `${end.missing} is not in the gazetteer` : 'country only'})`;
}

// arcText is the last cell of an adaptation's row: how its arc is drawn,
// or why there is none.
function arcText(r) {
  if (r.arc !== 'drawn') return REASONS[r.arc][0];
  return r.from.by === 'country' || r.to.by === 'country' ? 'dashed' : 'drawn';
}

/** arcTable lists the adaptations the arcs stand for, one row each. */
export function arcTable({ rows }) {
  return h('div', { class: 'table-wrap arc-table-wrap' },
    h('table', { id: 'arc-table' },
      h('caption', {}, 'Adaptations of these practices'),
      h('thead', {}, h('tr', {}, ['Practice, and who adapted it', 'From', 'Adapted in', 'Years', 'Arc']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length
        ? rows.map((r) => {
          const e = r.exp.experience;
          const title = r.original?.practice?.title || e.about.id;
          return h('tr', { dataset: { key: arcKey(r.exp), arc: r.arc } },
            h('th', { scope: 'row' }, h('a', { href: practiceHash(e.about.publisher, e.about.id) }, title),
              h('span', { class: 'by' }, 'by ', idLink(r.exp.publisher, r.exp.author_name))),
            h('td', {}, where(r.from)),
            h('td', {}, r.to ? where(r.to) : [e.city, countryName(e.country)].filter(Boolean).join(', ')),
            h('td', {}, years(e)),
            h('td', {}, arcText(r)));
        })
        : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No adaptation of these practices is held here.')))));
}
