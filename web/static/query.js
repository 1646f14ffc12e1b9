// The hash query of the search and charts views. Its parameters are the
// API's search parameters (API.md), so a view's URL is also its API call.

/** PAGE_SIZE is the number of hits per page of results. */
export const PAGE_SIZE = 20;

/** FACETS are the facet names shown, in order, with their legends. */
export const FACETS = [
  ['country', 'Country'],
  ['dimension', 'Dimension'],
  ['target_group', 'Target group'],
  ['funding_source', 'Funding source'],
  ['start_year', 'Year'],
  ['achievement', 'Achievement'],
  ['evaluation', 'Evaluation'],
  ['language', 'Language'],
];

/**
 * values gives a list parameter's values, repeated or comma-separated;
 * city and place values are repeated only (a city may hold commas, a
 * location does).
 */
export function values(params, name) {
  const out = params.getAll(name).flatMap((v) => (name === 'city' || name === 'place' ? [v] : v.split(',')))
    .map((v) => v.trim()).filter(Boolean);
  return name === 'country' ? out.map((v) => v.toUpperCase()) : out;
}

/**
 * selected gives the values of a facet the query filters on. The
 * start_year facet is the single year of year_from = year_to.
 */
export function selected(params, facet) {
  if (facet === 'start_year') {
    const from = params.get('year_from');
    return from && from === params.get('year_to') ? [from] : [];
  }
  return values(params, facet);
}

/** withoutFacet is the query without its filter on facet. */
export function withoutFacet(params, facet) {
  const p = new URLSearchParams(params);
  if (facet === 'start_year') {
    p.delete('year_from');
    p.delete('year_to');
  } else {
    p.delete(facet);
  }
  return p;
}

/**
 * toggle is the query with value of facet checked or not, back on the
 * first page. A year replaces the year range, as a query has one.
 */
export function toggle(params, facet, value, checked) {
  const p = withoutFacet(params, facet);
  p.delete('offset');
  if (facet === 'start_year') {
    if (checked) {
      p.set('year_from', value);
      p.set('year_to', value);
    }
    return p;
  }
  const vals = values(params, facet).filter((v) => v !== value);
  if (checked) vals.push(value);
  for (const v of vals) p.append(facet, v);
  return p;
}

/** filtersOnly is the query without sort and paging: what stats accept. */
export function filtersOnly(params) {
  const p = new URLSearchParams(params);
  for (const k of ['sort', 'offset', 'limit']) p.delete(k);
  return p;
}

/** searchHash is the search view of a query. */
export function searchHash(params) {
  const qs = new URLSearchParams(params).toString();
  return qs ? `#/search?${qs}` : '#/';
}

/** chartsHash is the charts view of a query's filters. */
export function chartsHash(params) {
  const qs = filtersOnly(params).toString();
  return qs ? `#/charts?${qs}` : '#/charts';
}

/** describe lists a query's filters for people: ["“school”", "country IT or FR", …]. */
export function describe(params) {
  const p = filtersOnly(params);
  const out = [];
  const from = p.get('year_from');
  const to = p.get('year_to');
  for (const k of new Set(p.keys())) {
    if (k === 'q') out.push(`“${p.get('q')}”`);
    else if (k === 'year_from') out.push(from === to ? `running in ${from}` : to ? `running between ${from} and ${to}` : `running in or after ${from}`);
    else if (k === 'year_to') { if (!from) out.push(`running in or before ${to}`); }
    else if (k === 'place') out.push(`placed at ${values(p, k).map(placeText).join(' or ')}`);
    else out.push(`${k.replaceAll('_', ' ')} ${values(p, k).join(' or ')}`);
  }
  return out;
}

// placeText is a place facet value for people: "45.43713, 12.33265 (IT)"
// for a location, "Venezia (IT)" for a city.
function placeText(v) {
  return v[2] === '@' ? `${v.slice(3).replace(',', ', ')} (${v.slice(0, 2)})` : `${v.slice(3)} (${v.slice(0, 2)})`;
}
