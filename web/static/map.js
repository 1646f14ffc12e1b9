// The offline map of Europe and its neighbours: country shapes from
// Natural Earth and places from GeoNames, both embedded (map/, see
// vendor/README.md), drawn as SVG with d3-geo and topojson-client. No
// tile server, no request beyond this node.
//
// loadMapData fetches the shapes and the gazetteer once; drawMap draws a
// choropleth of counts by country and points sized by count; drawArcs
// draws arcs between places (adaptations of a practice, from the place
// of the original to the place it was adapted in: arcs.js).

import { geoArea, geoCentroid, geoConicConformal, geoPath } from './vendor/d3-geo@3.1.2/d3-geo.mjs';
import { feature } from './vendor/topojson-client@3.1.0/index.js';

// The SVG namespace, as the HTML parser assigns it to an <svg> element.
const SVG_NS = new DOMParser().parseFromString('<svg></svg>', 'text/html').querySelector('svg').namespaceURI;

/** WIDTH and HEIGHT are the map's viewBox; it scales to its container. */
export const WIDTH = 800;
export const HEIGHT = 720;

// The region the projection is fitted to: from Portugal and Iceland to
// the Caucasus and Moscow, from the North African coast to the North
// Cape. Shapes beyond it (the Canaries, the Urals, the Sahara) are clipped.
const EXTENT = {
  type: 'MultiPoint',
  coordinates: [[-10, 36], [-22, 64], [25, 71], [38, 56], [45, 40], [35, 31], [10, 33], [-6, 33]],
};

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v != null) el.setAttribute(k, String(v));
  }
  if (text != null) el.textContent = text;
  return el;
}

/**
 * normalName is the key places are matched by: the name decomposed
 * (NFD) without its combining marks, in lower case, with each run of
 * other characters than letters and digits as one space. web/mapdata
 * normalises the same way.
 */
export function normalName(name) {
  return String(name).normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase()
    .replace(/[^\p{L}\p{Nd}]+/gu, ' ').trim();
}

// parsePlaces reads places.txt: "=CC" starts a country, then lines
// "name<TAB>lat<TAB>lon", most populous first (the first of a name wins).
function parsePlaces(text) {
  const byCountry = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('=')) {
      current = new Map();
      byCountry.set(line.slice(1), current);
      continue;
    }
    const [name, lat, lon] = line.split('\t');
    const key = normalName(name);
    if (current && !current.has(key)) current.set(key, { name, lat: Number(lat), lon: Number(lon) });
  }
  return byCountry;
}

let loading = null;

/**
 * loadMapData resolves to {countries: GeoJSON features keyed by
 * properties.code, region: {codes, not_drawn, source}, places: Map of
 * country code to Map of normalName to {name, lat, lon}}. The files are
 * fetched once per page load.
 */
export function loadMapData() {
  loading ??= (async () => {
    const [topo, text] = await Promise.all([
      fetchOK('/assets/map/countries.json').then((r) => r.json()),
      fetchOK('/assets/map/places.txt').then((r) => r.text()),
    ]);
    const countries = feature(topo, topo.objects.countries).features;
    for (const f of countries) f.properties.code = f.id;
    return { countries, region: topo.region, places: parsePlaces(text) };
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

async function fetchOK(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not load the map data (${url}): HTTP ${res.status}.`);
  return res;
}

/**
 * findPlaces looks a sheet's city up in the gazetteer of its country:
 * the whole name, or else each part of a list ("Palermo, Termini
 * Imerese"). It returns the places found, [] when none.
 */
export function findPlaces(data, country, city) {
  const gaz = data.places.get(country);
  if (!gaz || !city) return [];
  const whole = gaz.get(normalName(city));
  if (whole) return [whole];
  const found = [];
  for (const part of city.split(/[,;]/)) {
    const p = gaz.get(normalName(part));
    if (p && !found.includes(p)) found.push(p);
  }
  return found;
}

// centres caches countryCentre by map data, then code.
const centres = new WeakMap();

/**
 * countryCentre is where the map puts what is known only by its
 * country: the spherical centroid of the country's largest polygon (so
 * France's is in Europe, not between it and its overseas regions), as
 * {lat, lon}; null for a country the map does not draw.
 */
export function countryCentre(data, code) {
  let byCode = centres.get(data);
  if (!byCode) centres.set(data, byCode = new Map());
  if (byCode.has(code)) return byCode.get(code);
  const f = data.countries.find((c) => c.properties.code === code);
  let centre = null;
  if (f?.geometry) {
    let g = f.geometry;
    if (g.type === 'MultiPolygon') {
      const polygons = g.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }));
      g = polygons.reduce((a, b) => (geoArea(b) > geoArea(a) ? b : a));
    }
    const [lon, lat] = geoCentroid(g);
    centre = Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : null;
  }
  byCode.set(code, centre);
  return centre;
}

// One projection per drawn map, for drawArcs.
const projections = new WeakMap();

// newProjection is the map's projection, fitted to EXTENT and clipped to
// the viewBox.
function newProjection() {
  return geoConicConformal().parallels([35, 65]).rotate([-10, 0])
    .fitExtent([[10, 10], [WIDTH - 10, HEIGHT - 10]], EXTENT)
    .clipExtent([[0, 0], [WIDTH, HEIGHT]]);
}

let frameProjection = null;

/**
 * inFrame reports whether a point (degrees) falls inside the map's
 * viewBox: drawMap draws no point outside it, so the legend counts them.
 */
export function inFrame(lat, lon) {
  frameProjection ??= newProjection();
  const xy = frameProjection([lon, lat]);
  return !!xy && xy[0] >= 0 && xy[0] <= WIDTH && xy[1] >= 0 && xy[1] <= HEIGHT;
}

/**
 * drawMap draws the map into a new <svg> and returns it. spec:
 *   countries: {code: {count, label, hash}} (codes not listed are grey),
 *   points: [{key, lat, lon, count, label, hash, by}] (by: "location" or
 *   "city", the point's data-by; points outside the viewBox are not drawn),
 *   classOf(count): the CSS class of a country's colour,
 *   onActivate(hash): called on a click, Enter or Space on a country or
 *   point with a count.
 * Countries and points with a count are focusable, with their label as
 * accessible name.
 */
export function drawMap(data, spec) {
  const projection = newProjection();
  const path = geoPath(projection);
  const svg = s('svg', { class: 'map-svg', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'group',
    'aria-label': spec.title });
  projections.set(svg, projection);
  const shapes = s('g', { class: 'countries' });
  const active = [];
  for (const f of data.countries) {
    const c = spec.countries[f.properties.code];
    const d = path(f);
    if (!d) continue;
    const el = s('path', { d, class: `country ${spec.classOf(c?.count ?? 0)}`, 'data-code': f.properties.code });
    if (c?.count) {
      el.classList.add('has');
      active.push([el, c]);
    } else {
      el.append(s('title', {}, c?.label ?? f.properties.name));
    }
    shapes.append(el);
  }
  // Countries with practices are drawn last, so their outline shows.
  for (const [el, c] of active) {
    shapes.append(el);
    interactive(el, c, spec.onActivate);
  }
  const points = s('g', { class: 'points' });
  for (const p of [...spec.points].sort((a, b) => b.count - a.count)) {
    if (!inFrame(p.lat, p.lon)) continue;
    const xy = projection([p.lon, p.lat]);
    const el = s('circle', { cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: radius(p.count).toFixed(1),
      class: `point ${p.by === 'location' ? 'located' : ''}`.trim(), 'data-key': p.key, 'data-count': p.count, 'data-by': p.by });
    interactive(el, p, spec.onActivate);
    points.append(el);
  }
  const arrow = s('marker', { id: 'map-arrow', viewBox: '0 0 10 10', refX: 24, refY: 5, markerWidth: 9, markerHeight: 9,
    orient: 'auto', markerUnits: 'userSpaceOnUse' });
  arrow.append(s('path', { d: 'M0,1L10,5L0,9z', class: 'arrow' }));
  const defs = s('defs');
  defs.append(arrow);
  svg.append(defs, shapes, s('g', { class: 'arcs' }), points);
  return svg;
}

/** radius is a point's radius in viewBox units: its area grows with count. */
export function radius(count) {
  return 4 + 3.5 * Math.sqrt(Math.max(0, count - 1));
}

function interactive(el, item, onActivate) {
  el.setAttribute('tabindex', '0');
  el.setAttribute('role', 'link');
  el.setAttribute('aria-label', item.label);
  el.append(s('title', {}, item.label));
  el.addEventListener('click', () => onActivate(item.hash));
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onActivate(item.hash);
    }
  });
}

/**
 * drawArcs draws, on a map drawMap made, one great-circle arc per item of
 * arcs, [{from: {country, city, lat, lon, by, label}, to: {…}, key}],
 * from the place of the original practice to the place it was adapted
 * in, replacing the arcs drawn before. Each arc is a <path class="arc">
 * with a <title> "from → to" (each end's label, else its city and
 * country), data-from and data-to "country/city" and data-key the item's
 * key; it is dashed (class "approx") when an end is placed by its country
 * only (by: "country"). It returns the number of arcs drawn (an arc
 * whose ends are the same place, or off the map, is not).
 */
export function drawArcs(svg, arcs) {
  const projection = projections.get(svg);
  const layer = svg?.querySelector('g.arcs');
  if (!projection || !layer) throw new Error('drawArcs needs a map drawn by drawMap');
  const path = geoPath(projection);
  layer.replaceChildren();
  let n = 0;
  const name = (e) => e.label ?? `${e.city} (${e.country})`;
  for (const { from, to, key } of arcs) {
    if (from.lat === to.lat && from.lon === to.lon) continue;
    const d = path({ type: 'LineString', coordinates: [[from.lon, from.lat], [to.lon, to.lat]] });
    if (!d) continue;
    const approx = from.by === 'country' || to.by === 'country';
    const el = s('path', { d, class: approx ? 'arc approx' : 'arc', 'marker-end': 'url(#map-arrow)',
      'data-from': `${from.country}/${from.city}`, 'data-to': `${to.country}/${to.city}`, 'data-key': key });
    el.append(s('title', {}, `${name(from)} → ${name(to)}`));
    layer.append(el);
    n++;
  }
  layer.setAttribute('aria-label', n ? `${n} adaptation ${n === 1 ? 'arc' : 'arcs'}` : '');
  return n;
}
