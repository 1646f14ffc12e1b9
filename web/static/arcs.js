// The arcs of the map: each adaptation of a practice the current search
// matches (PROTOCOL.md 13), from the place of the original practice to
// the place it was adapted in. view-map.js draws them (map.js drawArcs)
// and lists them in a table.

import { get } from './api.js';
import { findPlaces, inFrame, countryCentre } from './map.js';
import { countryName } from './dom.js';
import { filtersOnly } from './query.js';
import { loadRecords, refKey } from './experiences.js';

/** SEARCH_MAX bounds how many hits of a filtered search the map reads to tell which practices it matches. */
export const SEARCH_MAX = 10000;

/**
 * REASONS say why an adaptation has no arc, by the data-arc of its row
 * ("drawn" has one): a short text for the table, a longer one for the
 * legend.
 */
export const REASONS = {
  'same-place': ['same place', 'adapted in the same place as the original, as far as the map can place them'],
  'one-country': ['within one country', 'adapted in the original’s country, with an end known only by its country'],
  'off-map': ['off the map', 'an end lies outside the map, or in a country it does not draw'],
  'not-held': ['original not held', 'the original practice is not held here, or was retracted'],
};

/**
 * end places one end of an arc: at the location given, else at the first
 * place of city in the gazetteer of country, else at the centre of the
 * country (by: "location", "city" or "country"). It returns {country,
 * city, lat, lon, by, label, missing (the city the gazetteer lacks, for
 * an end placed by its country)}, or null when the country is not drawn.
 */
export function end(data, country, city, location) {
  if (location?.lat != null && location?.lon != null) {
    return { country, city: city ?? '', lat: location.lat, lon: location.lon, by: 'location',
      label: `${city ? `${city}, ` : ''}${location.lat}, ${location.lon} (${country})` };
  }
  const [place] = findPlaces(data, country, city);
  if (place) return { country, city: place.name, lat: place.lat, lon: place.lon, by: 'city', label: `${place.name} (${country})` };
  const c = countryCentre(data, country);
  return c && { country, city: '', lat: c.lat, lon: c.lon, by: 'country', label: countryName(country), missing: city || '' };
}

/**
 * searchKeys resolves to {keys, complete}: the refKeys of the practices
 * the filters of params match (paging through the search, up to
 * SEARCH_MAX), or keys null when params has no filter (every practice
 * held matches). When the index can filter by adaptations (its answer
 * has the facet "adapted", adaptable says so), only practices adapted at
 * least once are read.
 */
async function searchKeys(params, adaptable, signal) {
  const p = filtersOnly(params);
  if (![...p.keys()].length) return { keys: null, complete: true };
  if (adaptable && !p.has('adapted') && !p.has('adapted_max')) p.set('adapted', '1');
  const keys = new Set();
  p.set('limit', '1000');
  for (let offset = 0; offset < SEARCH_MAX; offset += 1000) {
    p.set('offset', String(offset));
    const res = await get('search', p, 'find the practices whose adaptations to draw', signal);
    for (const hit of res.hits) keys.add(refKey(hit));
    if (offset + 1000 >= res.total) return { keys, complete: true };
  }
  return { keys, complete: false };
}

/**
 * arcsFor resolves to {rows, complete}: one row per adaptation in
 * adaptations (API Experiences) whose original practice the search of
 * params matches (result is that search's answer, for its facets), in
 * their order: {exp, original (the practice's record,
 * null when not held), from, to (ends, see end), arc: "drawn" or a key of
 * REASONS}. Without filters, adaptations of practices not held here (or
 * retracted) are rows too, without an arc. complete is false when the
 * adaptations or the search were read only in part.
 */
export async function arcsFor(data, params, result, { adaptations, complete }, signal) {
  const search = await searchKeys(params, Boolean(result.facets?.adapted), signal);
  const kept = adaptations.filter((x) => (search.keys ? search.keys.has(refKey(x.experience.about)) : true));
  const records = await loadRecords(kept.filter((x) => x.about_state === 'held').map((x) => x.experience.about), signal);
  const rows = kept.map((x) => {
    const e = x.experience;
    const original = records.get(refKey(e.about)) ?? null;
    const sheet = original?.practice;
    if (!sheet) return { exp: x, original: null, from: null, to: null, arc: 'not-held' };
    const from = end(data, sheet.country, sheet.city, sheet.location);
    const to = end(data, e.country, e.city, null);
    let arc = 'drawn';
    if (!from || !to || !inFrame(from.lat, from.lon) || !inFrame(to.lat, to.lon)) arc = 'off-map';
    else if (from.lat === to.lat && from.lon === to.lon) arc = 'same-place';
    // An arc from or to the middle of the very country it stays in
    // would say more than the records do.
    else if (from.country === to.country && (from.by === 'country' || to.by === 'country')) arc = 'one-country';
    return { exp: x, original, from, to, arc };
  });
  return { rows, complete: complete && search.complete };
}
