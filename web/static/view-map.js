// The map view: where the practices of the catalogue, or of a search,
// are. Counts come from the search API's country and place facets, so
// they follow the query; the map itself is map.js. A practice is placed
// at its sheet's location when it gives one, else at its city when the
// gazetteer finds it, else only its country is coloured. The adaptations
// of the practices shown are arcs (arcs.js), listed in a table too.

import { get } from './api.js';
import { loadMapData, drawMap, drawArcs, findPlaces, inFrame } from './map.js';
import { h, replace, num, plural, countryName } from './dom.js';
import { filtersOnly, searchHash, describe } from './query.js';
import { loadAdaptations } from './experiences.js';
import { arcsFor } from './arcs.js';
import { arcLegend, arcTable, arcKey } from './view-arcs.js';

// CLASSES are the colour classes of the choropleth, by the least count
// each stands for; q0 is a country without practices.
const CLASSES = [[1, 'q1'], [2, 'q2'], [4, 'q3'], [8, 'q4'], [16, 'q5']];

/** classOf is the colour class of a country with count practices. */
export function classOf(count) {
  let cls = 'q0';
  for (const [least, c] of CLASSES) if (count >= least) cls = c;
  return cls;
}

/** mapHash is the map view of a query's filters. */
export function mapHash(params) {
  const qs = filtersOnly(params).toString();
  return qs ? `#/map?${qs}` : '#/map';
}

// filtered is the search of params narrowed to one country or to the
// city facet values of one place (those replace the query's own).
function filtered(params, name, values) {
  const p = filtersOnly(params);
  p.delete(name);
  for (const v of values) p.append(name, v);
  return searchHash(p);
}

/**
 * place sorts the place facet (API.md: "CC@lat,lon" for a sheet with a
 * location, "CC/city" for one with a city only) into points and reasons.
 * It returns {points: [{key, lat, lon, count, label, hash, values, by}],
 * placed: {CC: practices placed at a point}, byLocation and byCity: the
 * practices placed each way, missing: [{value, country, city, count}] (a
 * city the gazetteer lacks), off: {CC: practices whose location or city
 * lies outside the map's frame}}.
 */
export function place(data, params, placeFacet) {
  const points = new Map();
  const placed = {};
  const missing = [];
  const off = {};
  let byLocation = 0;
  let byCity = 0;
  const add = (key, at, country, name, by, value, count) => {
    const pt = points.get(key) ?? { key, lat: at.lat, lon: at.lon, name, country, count: 0, values: [], by };
    pt.count += count;
    pt.values.push(value);
    points.set(key, pt);
  };
  for (const { value, count } of placeFacet) {
    const country = value.slice(0, 2);
    if (value[2] === '@') {
      const [lat, lon] = value.slice(3).split(',').map(Number);
      if (!inFrame(lat, lon)) {
        off[country] = (off[country] ?? 0) + count;
        continue;
      }
      add(value, { lat, lon }, country, `${lat}, ${lon}`, 'location', value, count);
      byLocation += count;
      placed[country] = (placed[country] ?? 0) + count;
      continue;
    }
    const city = value.slice(3);
    const all = findPlaces(data, country, city);
    const found = all.filter((p) => inFrame(p.lat, p.lon));
    if (!all.length) {
      missing.push({ value, country, city, count });
      continue;
    }
    if (!found.length) {
      off[country] = (off[country] ?? 0) + count;
      continue;
    }
    byCity += count;
    placed[country] = (placed[country] ?? 0) + count;
    for (const p of found) add(`${country}/${p.name}`, p, country, p.name, 'city', value, count);
  }
  for (const pt of points.values()) {
    pt.label = `${pt.by === 'location' ? 'Location ' : ''}${pt.name} (${countryName(pt.country)}): ${plural(pt.count, 'practice')}`;
    pt.hash = filtered(params, 'place', pt.values);
  }
  return { points: [...points.values()], placed, byLocation, byCity, missing, off };
}

/** render shows the map of route.params' filters in main. */
export async function render(main, route, ctx) {
  const params = filtersOnly(route.params);
  const filters = describe(params);
  const scope = h('p', { class: 'scope', 'aria-live': 'polite' }, ' ');
  const figure = h('figure', { id: 'map', class: 'map-figure' }, h('div', { class: 'skeleton block', 'aria-hidden': 'true' }));
  const side = h('div', { class: 'map-side' });
  replace(main, h('div', { class: 'map-view' },
    h('h1', { class: 'view-title', tabindex: '-1' }, filters.length ? 'Map of a search' : 'Map of the catalogue'),
    scope, h('div', { class: 'map-layout' }, figure, side)));
  document.title = 'Map – Khantara';

  const p = new URLSearchParams(params);
  p.set('limit', '1');
  const [data, result, adaptations] = await Promise.all([
    loadMapData(),
    get('search', p, 'count the practices by country and city', ctx.signal),
    loadAdaptations(ctx.signal),
  ]);
  const arcs = await arcsFor(data, params, result, adaptations, ctx.signal);
  const total = result.total;
  replace(scope, filters.length
    ? [`${plural(total, 'practice')} matching: ${filters.join('; ')}. `,
      h('a', { href: searchHash(params) }, 'Show them'), ' · ', h('a', { href: '#/map' }, 'Map the whole catalogue')]
    : [`All ${plural(total, 'practice')} this node holds. `, h('a', { href: '#/' }, 'Search them')]);

  const byCountry = result.facets?.country ?? [];
  const placement = place(data, params, result.facets?.place ?? []);
  const { points, placed } = placement;
  const drawn = new Set(data.countries.map((f) => f.properties.code));
  const countries = {};
  for (const { value, count } of byCountry) {
    countries[value] = { count, hash: filtered(params, 'country', [value]),
      label: `${countryName(value)}: ${plural(count, 'practice')}, ${num(placed[value] ?? 0)} placed at their location or city` };
  }
  const title = `Map of ${plural(total, 'practice')} by country, location and city`;
  const svg = drawMap(data, { title, countries, points, classOf, onActivate: ctx.navigate });
  drawArcs(svg, arcs.rows.filter((r) => r.arc === 'drawn').map((r) => ({ from: r.from, to: r.to, key: arcKey(r.exp) })));
  figure.replaceChildren(svg, h('figcaption', { class: 'visually-hidden' }, title));
  const key = legend(data, byCountry, placement, drawn, total);
  key.querySelector('.note').before(arcLegend(arcs, filters.length > 0));
  replace(side, key, table(byCountry, placed, drawn, countries));
  main.querySelector('.map-view').append(arcTable(arcs));
}

// legend explains the colours and the points, and says honestly how many
// practices the map could not place, and why.
function legend(data, byCountry, { points, placed, byLocation, byCity, missing, off }, drawn, total) {
  const withCity = {};
  for (const m of missing) withCity[m.country] = (withCity[m.country] ?? 0) + m.count;
  const offMap = Object.values(off).reduce((a, b) => a + b, 0);
  let noCity = 0;
  let notDrawn = 0;
  let missingDrawn = 0;
  const notDrawnList = [];
  for (const { value, count } of byCountry) {
    const unplaced = count - (placed[value] ?? 0) - (off[value] ?? 0);
    if (!drawn.has(value)) {
      notDrawn += unplaced;
      if (unplaced) notDrawnList.push(`${countryName(value)} (${value}, ${num(unplaced)}): ${data.region.not_drawn[value] ?? 'outside the map’s region'}`);
      continue;
    }
    missingDrawn += withCity[value] ?? 0;
    noCity += unplaced - (withCity[value] ?? 0);
  }
  const swatch = (cls) => h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' });
  const classes = CLASSES.map(([least], i) => {
    const next = CLASSES[i + 1]?.[0];
    return h('li', {}, swatch(CLASSES[i][1]), next ? (next - 1 === least ? ` ${least}` : ` ${least}–${next - 1}`) : ` ${least} or more`);
  });
  const missingNames = missing.filter((m) => drawn.has(m.country))
    .map((m) => `${m.city} (${m.country}${m.count > 1 ? `, ${num(m.count)}` : ''})`);
  return h('section', { class: 'map-legend', 'aria-labelledby': 'map-legend-title' },
    h('h2', { id: 'map-legend-title' }, 'Legend'),
    h('ul', { class: 'swatches', 'aria-label': 'Practices per country' }, h('li', {}, swatch('q0'), ' none'), classes),
    h('p', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }),
      ` A circle is a place with practices: the location a sheet gives, or else its city; its area grows with their number `,
      `(${plural(points.length, 'place')} on this map). `, h('span', { class: 'dot located', 'aria-hidden': 'true' }),
      ' A ringed circle is a location.'),
    h('ul', { id: 'map-placement', class: 'placement' },
      h('li', { dataset: { reason: 'location' } }, `${num(byLocation)} of ${plural(total, 'practice')} placed at their location (the sheet’s lat and lon).`),
      h('li', { dataset: { reason: 'city' } }, `${num(byCity)} placed at their city (no location given).`),
      h('li', { dataset: { reason: 'no-city' } }, `${num(noCity)} shown by country only: the sheet gives neither a location nor a city.`),
      h('li', { dataset: { reason: 'not-in-gazetteer' } }, `${num(missingDrawn)} shown by country only: the gazetteer has no place of that name`,
        missingNames.length ? `: ${missingNames.join('; ')}.` : '.'),
      h('li', { dataset: { reason: 'country-not-drawn' } }, `${num(notDrawn)} not on the map: the map draws no shape for their country`,
        notDrawnList.length ? `: ${notDrawnList.join('; ')}.` : '.'),
      h('li', { dataset: { reason: 'off-map' } }, `${num(offMap)} not placed: their location or city lies outside the map’s frame (their country is still coloured).`)),
    h('p', { class: 'note' }, 'The gazetteer holds places with at least 5,000 inhabitants under their GeoNames name ',
      'and a few local names (Milano, Venezia, Gothenburg: see web/mapdata/aliases.txt). Country shapes: Natural Earth (public domain). Places: GeoNames (geonames.org), ',
      'licensed under CC BY 4.0. Drawn with d3-geo and topojson-client; ',
      h('a', { href: '/assets/vendor/README.md' }, 'sources and licences'), '.'));
}

// table is the map's figures: one row per country with practices.
function table(byCountry, placed, drawn, countries) {
  return h('div', { class: 'table-wrap' },
    h('table', { id: 'map-table' },
      h('caption', {}, 'Practices by country'),
      h('thead', {}, h('tr', {}, ['Country', 'Practices', 'Placed', 'Not placed']
        .map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
      h('tbody', {}, byCountry.map(({ value, count }) => h('tr', { dataset: { country: value } },
        h('th', { scope: 'row' }, h('a', { href: countries[value].hash }, countryName(value)), ` (${value})`,
          drawn.has(value) ? null : h('span', { class: 'note' }, ' not drawn')),
        h('td', { class: 'num' }, num(count)),
        h('td', { class: 'num' }, num(placed[value] ?? 0)),
        h('td', { class: 'num' }, num(count - (placed[value] ?? 0))))))));
}

