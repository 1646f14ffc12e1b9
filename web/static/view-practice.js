// The practice view: one fact sheet laid out like the model fact sheet of
// the 2012 CoR study, its translations, and its provenance.

import { get } from './api.js';
import { h, add, replace, num, eur, label, years, time, countryName, languageName, autonym, webURL } from './dom.js';

/** render shows the practice route.publisher/route.id in main. */
export async function render(main, route, ctx) {
  const { publisher, id } = route;
  const back = h('p', { class: 'back' }, h('a', { href: ctx.lastSearch() }, '‹ Back to the practices'));
  replace(main, back, h('article', { id: 'practice', class: 'practice is-skeleton', 'aria-busy': 'true' },
    h('h1', { id: 'title', tabindex: '-1' }, id),
    h('div', { class: 'skeleton block', 'aria-hidden': 'true' })));
  document.title = `${id} – Khantara`;

  const rec = await get(`practices/${encodeURIComponent(publisher)}/${encodeURIComponent(id)}`, null,
    'load this practice', ctx.signal);

  const sheet = rec.practice;
  const article = h('article', { id: 'practice', class: 'practice', dataset: { publisher: rec.publisher, id: rec.id } });
  if (rec.kind === 'retract' || !sheet) {
    add(article, [
      h('h1', { id: 'title', tabindex: '-1' }, `Retracted practice: ${rec.id}`),
      h('p', { class: 'notice warn', id: 'retracted' },
        h('strong', {}, 'This practice was retracted by its publisher'), ' on ', time(rec.time), '. ',
        rec.retraction?.reason ? `Reason given: “${rec.retraction.reason}”.` : 'No reason was given.',
        ' Its content is no longer part of the catalogue.'),
    ]);
    document.title = `Retracted: ${rec.id} – Khantara`;
    add(article, provenance(rec));
  } else {
    const [header, identification, body] = factSheet(sheet, rec);
    identification.classList.add('practice-side');
    const prov = provenance(rec);
    prov.classList.add('practice-side');
    add(article, [header, h('div', { class: 'practice-grid' }, identification, body, prov)]);
    document.title = `${sheet.title} – Khantara`;
  }
  replace(main, back, article);
}

// --- the fact sheet ---

function factSheet(s, rec) {
  const lang = s.language;
  const title = h('h1', { id: 'title', tabindex: '-1', lang }, s.title);
  const summary = h('p', { id: 'summary', class: 'summary', lang }, s.summary ?? '');
  summary.hidden = !s.summary;
  const objective = h('p', { id: 'objective', class: 'prose', lang }, s.objective ?? '');
  const note = h('p', { id: 'translation-note', class: 'note', 'aria-live': 'polite' });
  note.hidden = true;

  const publishedBy = rec.profile?.name
    ? h('p', { class: 'byline' }, 'Published by ', h('strong', {}, rec.profile.name)) : null;

  const f = s.funding ?? {};
  const p = s.partners ?? {};
  const t = s.transferability ?? {};
  const c = s.contact ?? {};
  const identification = section('identification', 'Identification',
      facts(
        ['Title', text(s.title, lang)],
        ['Country', s.country && `${countryName(s.country)} (${s.country})`],
        ['Region', s.region],
        ['City', s.city],
        ['Organiser', s.organiser],
        ['Years', years(s)],
        ['Ongoing', s.ongoing && 'Yes'],
        ['Duration', s.duration_years && `${num(s.duration_years)} ${s.duration_years === 1 ? 'year' : 'years'}`],
        ['Language', lang && `${languageName(lang)} (${lang})`],
      ));
  const body = h('div', { id: 'practice-body', class: 'practice-main', role: 'tabpanel', 'aria-labelledby': `tab-${lang}` },
    section('context', 'Context and challenges',
      facts(['Introduction and context', text(s.context, lang)], ['Policy challenges', text(s.challenges, lang)])),
    h('section', { class: 'sheet-section', 'aria-labelledby': 'h-objective' },
      h('h2', { id: 'h-objective' }, 'Objective'), objective),
    section('dimensions', 'Dimensions', codes(s.dimensions)),
    section('issues', 'Issues', codes(s.issues), text(s.issues_text, lang)),
    section('target-groups', 'Target groups', codes(s.target_groups), text(s.target_groups_text, lang)),
    section('assistance', 'Assistance', text(s.assistance, lang)),
    section('activities', 'Activities', text(s.activities, lang)),
    section('staff-training', 'Staff training', text(s.staff_training, lang)),
    section('funding', 'Funding',
      facts(
        ['Amount', f.amount_eur != null && eur(f.amount_eur)],
        ['Period', f.period_years && `${num(f.period_years)} ${f.period_years === 1 ? 'year' : 'years'}`],
        ['Sources', f.sources?.length && f.sources.map(label).join(', ')],
        ['Notes', text(f.notes, lang)],
      )),
    section('partners', 'Partners',
      facts(
        ['Types', p.types?.length && p.types.map(label).join(', ')],
        ['Names', p.names?.length && h('ul', {}, p.names.map((n) => h('li', {}, n)))],
        ['Relations with other initiatives', text(p.description, lang)],
      )),
    section('beneficiaries', 'Beneficiaries',
      facts(['Number so far', s.beneficiaries != null && num(s.beneficiaries)], ['Details', text(s.beneficiaries_text, lang)])),
    section('achievement', 'Achievement and outcomes',
      facts(['Objectives', s.achievement && label(s.achievement)], ['Outcomes', text(s.outcomes, lang)])),
    section('national-programme', 'National programme',
      facts(['Part of a wider national programme', yesNo(s.part_of_national_programme)])),
    section('transferability', 'Transferability',
      facts(['Could others learn from it', yesNo(t.replicable)], ['Scope for replication', text(t.lessons, lang)])),
    section('evaluation', 'Evaluation',
      facts(['Type', s.evaluation && label(s.evaluation)], ['Details', text(s.evaluation_text, lang)])),
    section('other', 'Other information', text(s.other_information, lang)),
    section('contact', 'Contact',
      facts(
        ['Organisation', c.organisation],
        ['Unit', c.unit],
        ['Email', c.email && mailLink(c.email)],
        ['Website', c.website && link(c.website, c.website)],
      )),
    section('links', 'Links',
      s.links?.length && h('ul', { class: 'links' }, s.links.map((l) => h('li', {}, link(l.url, l.title || l.url))))),
    section('tags', 'Tags',
      s.tags?.length && h('ul', { class: 'tags' }, s.tags.map((tag) => h('li', {}, tag)))),
  );

  const header = h('header', { class: 'practice-header' }, title,
    languageTabs(s, { title, summary, objective, note }), note, publishedBy, summary);
  return [header, identification, body];
}

// languageTabs switches title, summary and objective between the sheet's
// own language and its translations; other fields stay in the original.
function languageTabs(s, els) {
  const langs = [s.language, ...Object.keys(s.translations ?? {}).filter((l) => l !== s.language).sort()];
  const tabs = langs.map((lang, i) => h('button', {
    type: 'button', role: 'tab', id: `tab-${lang}`, lang, 'aria-controls': 'practice-body',
    'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1', dataset: { lang },
  }, autonym(lang), i === 0 ? h('span', { class: 'tab-note' }, ' (original)') : null));

  const show = (tab) => {
    const lang = tab.dataset.lang;
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
    }
    document.getElementById('practice-body')?.setAttribute('aria-labelledby', tab.id);
    const tr = lang === s.language ? null : s.translations[lang];
    setText(els.title, tr?.title || s.title, tr?.title ? lang : s.language);
    setText(els.summary, tr?.summary || s.summary || '', tr?.summary ? lang : s.language);
    setText(els.objective, tr?.objective || s.objective || '', tr?.objective ? lang : s.language);
    els.summary.hidden = !els.summary.textContent;
    els.note.hidden = !tr;
    els.note.textContent = tr
      ? `Shown in ${languageName(lang)}: the title${tr.summary ? ', the summary' : ''}${tr.objective ? ' and the objective' : ''}. ` +
        `Everything else is in the original ${languageName(s.language)}.`
      : '';
  };
  const list = h('div', { id: 'languages', role: 'tablist', 'aria-label': 'Language of the title, summary and objective' }, tabs);
  list.addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) show(tab);
  });
  list.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    const j = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (j === undefined) return;
    e.preventDefault();
    const tab = tabs[(j + tabs.length) % tabs.length];
    tab.focus();
    show(tab);
  });
  return list;
}

function setText(el, value, lang) {
  el.textContent = value;
  el.lang = lang;
}

// --- provenance ---

function provenance(rec) {
  const verified = rec.signature_verified;
  const row = (field, title, ...value) => [h('dt', {}, title), h('dd', { dataset: { field } }, ...value)];
  return h('section', { id: 'provenance', class: 'sheet-section provenance', 'aria-labelledby': 'h-provenance' },
    h('h2', { id: 'h-provenance' }, 'Provenance'),
    h('dl', { class: 'facts' },
      row('publisher', 'Publisher',
        rec.profile?.name ? [h('span', { class: 'org' }, rec.profile.name), ' '] : null,
        h('code', { class: 'peer' }, rec.publisher)),
      row('id', 'Practice ID', h('code', {}, rec.id)),
      row('seq', 'Sequence number', String(rec.seq)),
      row('hash', 'Announcement hash', h('code', { class: 'hash' }, rec.hash)),
      row('signed', 'Signed', time(rec.time)),
      row('received', 'Received here', time(rec.received_at)),
      row('from', 'Delivered by', rec.from ? h('code', { class: 'peer' }, rec.from) : 'published here'),
      [h('dt', {}, 'Signature'),
        h('dd', { dataset: { field: 'signature' }, class: verified ? 'ok' : 'warn' }, verified ? 'verified' : 'NOT verified')]),
    h('p', { class: 'note' }, verified
      ? 'The node checked the publisher\u2019s signature over this record again to answer this page.'
      : 'The stored copy failed the signature check: it may be damaged. Do not rely on its content.'));
}

// --- building blocks ---

// section is a titled part of the sheet, or nothing when its content is empty.
function section(key, title, ...content) {
  const parts = content.filter((c) => c);
  if (!parts.length) return null;
  return h('section', { class: 'sheet-section', id: `s-${key}`, 'aria-labelledby': `h-${key}` },
    h('h2', { id: `h-${key}` }, title), parts);
}

// facts is a <dl> of the rows with a value, or null when none has one.
function facts(...rows) {
  const kept = rows.filter(([, v]) => v !== null && v !== undefined && v !== '' && v !== false && v !== 0);
  if (!kept.length) return null;
  return h('dl', { class: 'facts' }, kept.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// text is a paragraph of the sheet's prose in its language, or null.
function text(value, lang) {
  return value ? h('p', { class: 'prose', lang }, value) : null;
}

function codes(list) {
  return list?.length ? h('ul', { class: 'codes' }, list.map((c) => h('li', { dataset: { code: c } }, label(c)))) : null;
}

function yesNo(b) {
  return b === true ? 'Yes' : b === false ? 'No' : null;
}

function link(url, title) {
  const href = webURL(url);
  return href ? h('a', { href, rel: 'noopener noreferrer external' }, title) : title;
}

function mailLink(addr) {
  return /^[^\s@]+@[^\s@]+$/.test(addr) ? h('a', { href: `mailto:${addr}` }, addr) : addr;
}
