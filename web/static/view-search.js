// The search view: free text, sort, facets, one page of result cards.

import { get } from './api.js';
import { h, replace, num, eur, plural, label, years, countryName, languageName, practiceHash } from './dom.js';
import { PAGE_SIZE, FACETS, selected, withoutFacet, toggle, chartsHash, searchHash, describe } from './query.js';

const SORTS = [
  ['relevance', 'Relevance'],
  ['-year', 'Newest first'],
  ['year', 'Oldest first'],
  ['-funding', 'Most funding'],
  ['funding', 'Least funding'],
  ['-beneficiaries', 'Most beneficiaries'],
  ['beneficiaries', 'Fewest beneficiaries'],
];

// The view's elements, built once per visit of the view and updated in
// place, so the form and the focus survive a change of filters.
let ui = null;

function build(main, ctx) {
  const q = h('input', { id: 'q', type: 'search', name: 'q', autocomplete: 'off',
    placeholder: 'e.g. language courses, housing, Palermo' });
  const form = h('form', { id: 'search-form', role: 'search', class: 'search-form' },
    h('label', { for: 'q' }, 'Search titles, summaries, objectives and more'),
    h('div', { class: 'search-row' }, q, h('button', { type: 'submit' }, 'Search')));
  const sort = h('select', { id: 'sort', name: 'sort' },
    SORTS.map(([value, text]) => h('option', { value }, text)));
  const count = h('p', { id: 'result-count', 'aria-live': 'polite', 'aria-atomic': 'true' }, ' ');
  const toCharts = h('a', { id: 'to-charts', href: '#/charts' }, 'Chart these practices');
  const results = h('ol', { id: 'results', class: 'results', 'aria-labelledby': 'result-count' },
    skeleton());
  const prev = h('button', { id: 'prev', type: 'button', disabled: true }, '‹ Previous');
  const next = h('button', { id: 'next', type: 'button', disabled: true }, 'Next ›');
  const pageInfo = h('span', { id: 'page-info' }, ' ');
  const empty = h('p', { class: 'empty', hidden: true },
    'No practice matches. Try fewer words or filters.');
  const facetBox = h('div', { class: 'facet-list' });
  const active = h('p', { class: 'active-filters', hidden: true });
  const facetSummary = h('summary', {}, 'Filters');
  const facets = h('aside', { id: 'facets', 'aria-label': 'Filters' },
    h('details', { open: true, class: 'facets-box' }, facetSummary, active, facetBox));

  const page = h('div', { class: 'search-view' },
    h('h1', { class: 'view-title', tabindex: '-1' }, 'Practices'),
    form,
    h('div', { class: 'search-layout' },
      facets,
      h('section', { class: 'results-pane', 'aria-label': 'Results' },
        h('div', { class: 'toolbar' }, count,
          h('div', { class: 'sort' }, h('label', { for: 'sort' }, 'Sort'), sort),
          toCharts),
        results, empty,
        h('nav', { class: 'pager', 'aria-label': 'Result pages' }, prev, pageInfo, next))));

  ui = { page, q, sort, count, toCharts, results, prev, next, pageInfo, empty, facetBox, facetSummary, active,
    params: new URLSearchParams(), total: 0 };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams(ui.params);
    p.delete('offset');
    const text = q.value.trim();
    if (text) p.set('q', text);
    else p.delete('q');
    ctx.navigate(searchHash(p));
  });
  sort.addEventListener('change', () => {
    const p = new URLSearchParams(ui.params);
    p.delete('offset');
    p.set('sort', sort.value);
    ctx.navigate(searchHash(p));
  });
  const turn = (delta) => () => {
    const p = new URLSearchParams(ui.params);
    const offset = Math.max(0, (Number(p.get('offset')) || 0) + delta);
    if (offset) p.set('offset', String(offset));
    else p.delete('offset');
    ui.scrollToTop = true;
    ctx.navigate(searchHash(p));
  };
  prev.addEventListener('click', turn(-PAGE_SIZE));
  next.addEventListener('click', turn(PAGE_SIZE));
  facetBox.addEventListener('change', (e) => {
    const box = e.target;
    if (!box.matches('input[data-facet]')) return;
    ctx.navigate(searchHash(toggle(ui.params, box.dataset.facet, box.value, box.checked)));
  });
  replace(main, page);
}

function skeleton() {
  return Array.from({ length: 4 }, () => h('li', { class: 'skeleton', 'aria-hidden': 'true' }));
}

/** render shows the search of params in main. */
export async function render(main, route, ctx) {
  if (!ui || !main.contains(ui.page)) build(main, ctx);
  const params = new URLSearchParams(route.params);
  params.delete('limit');
  ui.params = params;
  const text = params.get('q') ?? '';
  if (ui.q.value.trim() !== text) ui.q.value = text;
  ui.sort.value = params.get('sort') || (text ? 'relevance' : '-year');
  ui.results.setAttribute('aria-busy', 'true');
  document.title = text ? `“${text}” – Khantara` : 'Practices – Khantara';

  // The facets of a filtered field come from the query without that
  // filter, so other values stay offered with the count they would add.
  const filtered = FACETS.map(([name]) => name).filter((name) => selected(params, name).length);
  const [result, ...others] = await Promise.all([
    get('search', withLimit(params, PAGE_SIZE), 'load the search results', ctx.signal),
    ...filtered.map((name) => get('search', withLimit(withoutFacet(params, name), 1),
      `count the ${name.replaceAll('_', ' ')} filter`, ctx.signal)),
  ]);
  const facets = { ...result.facets };
  filtered.forEach((name, i) => { facets[name] = others[i].facets?.[name] ?? []; });

  renderFacets(params, facets);
  renderHits(params, result);
  ui.results.removeAttribute('aria-busy');
  if (ui.scrollToTop) {
    ui.scrollToTop = false;
    ui.page.querySelector('.toolbar').scrollIntoView({ block: 'nearest' });
  }
}

function withLimit(params, limit) {
  const p = new URLSearchParams(params);
  p.set('limit', String(limit));
  return p;
}

function renderHits(params, result) {
  const total = result.total;
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const hits = result.hits ?? [];
  ui.total = total;
  ui.count.textContent = plural(total, 'practice');
  replace(ui.results, hits.map(card));
  ui.empty.hidden = total > 0;
  const first = hits.length ? offset + 1 : 0;
  const last = hits.length ? offset + hits.length : 0;
  ui.pageInfo.textContent = hits.length ? `${num(first)}–${num(last)} of ${num(total)}` : `0 of ${num(total)}`;
  ui.prev.disabled = offset <= 0;
  ui.next.disabled = offset + PAGE_SIZE >= total;
  ui.toCharts.href = chartsHash(params);
}

/** card is the result card of one search hit (also the organisation view's practices). */
export function card(hit) {
  const fact = (name, title, ...value) => h('div', { dataset: { field: name } }, h('dt', {}, title), h('dd', {}, ...value));
  return h('li', { class: 'card', dataset: { publisher: hit.publisher, id: hit.id } },
    h('h3', {}, h('a', { href: practiceHash(hit.publisher, hit.id), lang: hit.language || null }, hit.title)),
    h('dl', { class: 'facts' },
      hit.organiser && fact('organiser', 'Organiser', hit.organiser),
      hit.country && fact('country', 'Country', `${countryName(hit.country)} (${hit.country})`),
      hit.start_year > 0 && fact('years', 'Years', years(hit)),
      hit.dimensions?.length > 0 && fact('dimensions', 'Dimensions', hit.dimensions.map(label).join(', ')),
      hit.funding_eur != null && fact('funding', 'Funding', eur(hit.funding_eur)),
      hit.languages?.length > 0 && fact('languages', 'Languages', hit.languages.join(', '))));
}

function renderFacets(params, facets) {
  // Keep the focus on the box the reader just ticked, across the rebuild.
  const focused = document.activeElement?.matches?.('input[data-facet]')
    ? [document.activeElement.dataset.facet, document.activeElement.value] : null;
  let active = 0;
  const sets = FACETS.map(([name, legend]) => {
    const chosen = selected(params, name);
    active += chosen.length;
    const list = [...(facets[name] ?? [])];
    if (name === 'start_year') list.sort((a, b) => Number(b.value) - Number(a.value));
    for (const v of chosen) {
      if (!list.some((fv) => fv.value === v)) list.push({ value: v, count: 0 });
    }
    return h('fieldset', { dataset: { facet: name } },
      h('legend', {}, legend),
      name === 'start_year' && h('p', { class: 'hint' }, 'Counts by start year; ticking a year shows every practice running that year.'),
      list.length === 0 && h('p', { class: 'hint' }, 'None in these results.'),
      h('div', { class: 'facet-values' }, list.map((fv) => facetValue(name, fv, chosen.includes(fv.value)))));
  });
  replace(ui.facetBox, sets);
  ui.facetSummary.textContent = active ? `Filters (${active} active)` : 'Filters';
  const others = describe(params).filter((d) => !d.startsWith('“'));
  ui.active.hidden = others.length === 0;
  if (others.length) {
    const keep = new URLSearchParams();
    if (params.get('q')) keep.set('q', params.get('q'));
    if (params.get('sort')) keep.set('sort', params.get('sort'));
    replace(ui.active, `Filtered by ${others.join('; ')}. `, h('a', { href: searchHash(keep) }, 'Clear all filters'));
  }
  if (focused) {
    const [facet, value] = focused;
    ui.facetBox.querySelector(`input[data-facet="${CSS.escape(facet)}"][value="${CSS.escape(value)}"]`)?.focus();
  }
}

function facetValue(name, fv, checked) {
  const box = h('input', { type: 'checkbox', dataset: { facet: name }, value: fv.value });
  box.checked = checked;
  const title = name === 'country' ? countryName(fv.value)
    : name === 'language' ? languageName(fv.value)
    : name === 'start_year' ? null : label(fv.value);
  return h('label', { title, class: fv.count === 0 ? 'zero' : null },
    box, ` ${fv.value} `, h('span', { class: 'count' }, num(fv.count)));
}
