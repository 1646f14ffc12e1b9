// The practice view: one fact sheet laid out like the model fact sheet of
// the 2012 CoR study, its translations, its provenance (the publisher, an
// organisation or a plain publisher, and the key that signed) and the
// experiences of other organisations with it (view-experiences.js).

import { get, APIError } from './api.js';
import { sections } from './fields.js';
import { h, add, replace, num, eur, label, years, time, countryName, languageName, autonym, webURL } from './dom.js';
import { loadOrg, keyStatus, orgHash } from './org.js';
import { loadPracticeExperiences, loadAdaptations, loadRecords } from './experiences.js';
import { experiencesSection, experienceSummary, adaptedFrom } from './view-experiences.js';

/** render shows the practice route.publisher/route.id in main. */
export async function render(main, route, ctx) {
  const { publisher, id } = route;
  const back = h('p', { class: 'back' }, h('a', { href: ctx.lastSearch() }, '‹ Back to the practices'));
  replace(main, back, h('article', { id: 'practice', class: 'practice is-skeleton', 'aria-busy': 'true' },
    h('h1', { id: 'title', tabindex: '-1' }, id),
    h('div', { class: 'skeleton block', 'aria-hidden': 'true' })));
  document.title = `${id} – Khantara`;

  const [rec, exps, links] = await Promise.all([
    get(`practices/${encodeURIComponent(publisher)}/${encodeURIComponent(id)}`, null, 'load this practice', ctx.signal)
      .catch((err) => (err instanceof APIError && err.status === 404 ? err : Promise.reject(err))),
    loadPracticeExperiences(publisher, id, ctx.signal),
    experienceLinks(ctx.signal),
  ]);
  // A practice not held here still shows the experiences held about it.
  if (rec instanceof APIError && !exps.experiences.length) throw rec;
  const held = rec instanceof APIError ? null : rec;
  const from = links.resultOf(exps.about);
  const titles = await practiceTitles([
    ...from.map((x) => x.experience.about),
    ...exps.experiences.map((x) => x.experience.practice).filter((r) => r?.id),
  ], ctx.signal);
  // An organisation's record is signed by a key other than the
  // publisher: the organisation's page says what that key is to it.
  const org = held && isOrgRecord(held) ? await loadOrg(held.publisher, ctx.signal) : null;
  const who = held ? publisherName(held, org) : '';

  const sheet = held?.practice;
  const article = h('article', { id: 'practice', class: 'practice', dataset: { publisher: exps.about.publisher, id: exps.about.id } });
  const experiences = experiencesSection(exps, titles, held?.kind === 'practice' ? held.seq : 0);
  if (!held) {
    add(article, [
      h('h1', { id: 'title', tabindex: '-1' }, `Practice not held here: ${id}`),
      adaptedFrom(from, titles), experiences,
    ]);
    document.title = `Not held: ${id} – Khantara`;
  } else if (held.kind === 'retract' || !sheet) {
    add(article, [
      h('h1', { id: 'title', tabindex: '-1' }, `Retracted practice: ${held.id}`),
      h('p', { class: 'notice warn', id: 'retracted' },
        h('strong', {}, 'This practice was retracted by its publisher'), ' on ', time(held.time), '. ',
        held.retraction?.reason ? `Reason given: “${held.retraction.reason}”.` : 'No reason was given.',
        ' Its content is no longer part of the catalogue.'),
      adaptedFrom(from, titles), experiences,
    ]);
    document.title = `Retracted: ${held.id} – Khantara`;
    add(article, provenance(held, org));
  } else {
    const [header, identification, body] = factSheet(sheet, who);
    add(header, [adaptedFrom(from, titles), experienceSummary(exps)]);
    identification.classList.add('practice-side');
    const prov = provenance(held, org);
    prov.classList.add('practice-side');
    add(article, [header, h('div', { class: 'practice-grid' }, identification, body, prov), experiences]);
    document.title = `${sheet.title} – Khantara`;
  }
  replace(main, back, article);
}

// experienceLinks loads every adaptation held here and resolves to
// {resultOf(ref)}: the adaptations that name the practice ref as the
// practice they resulted in (the other direction of adapted_in).
async function experienceLinks(signal) {
  const { adaptations } = await loadAdaptations(signal);
  return {
    resultOf: (ref) => adaptations.filter((x) => x.experience.practice?.id === ref.id &&
      x.experience.practice.publisher === ref.publisher),
  };
}

// practiceTitles maps the refKey of each practice refs name to its title,
// for those this node holds.
async function practiceTitles(refs, signal) {
  const recs = await loadRecords(refs, signal);
  return new Map([...recs].filter(([, r]) => r?.practice?.title).map(([k, r]) => [k, r.practice.title]));
}

// --- the fact sheet ---

// factSheet lays the sheet out by the sections of fields.js (generated
// from protocol.Fields): the header, the identification column, the body.
function factSheet(s, who) {
  const lang = s.language;
  const title = h('h1', { id: 'title', tabindex: '-1', lang }, s.title);
  const summary = h('p', { id: 'summary', class: 'summary', lang }, s.summary ?? '');
  summary.hidden = !s.summary;
  const objective = h('p', { id: 'objective', class: 'prose', lang }, s.objective ?? '');
  const note = h('p', { id: 'translation-note', class: 'note', 'aria-live': 'polite' });
  note.hidden = true;

  const publishedBy = who ? h('p', { class: 'byline' }, 'Published by ', h('strong', {}, who)) : null;

  const part = (sec) => {
    if (sec.key === 'objective') {
      return h('section', { class: 'sheet-section', 'aria-labelledby': 'h-objective' },
        h('h2', { id: 'h-objective' }, sec.title), objective);
    }
    const shown = sec.rows.map((row) => [row.label, renderers[row.as](at(s, row.paths[0]), s)]);
    return sec.rows.every((row) => row.label)
      ? section(sec.key, sec.title, facts(...shown))
      : section(sec.key, sec.title, ...shown.map(([, v]) => v));
  };
  const identification = part(sections.find((sec) => sec.key === 'identification'));
  const body = h('div', { id: 'practice-body', class: 'practice-main', role: 'tabpanel', 'aria-labelledby': `tab-${lang}` },
    sections.filter((sec) => sec.key !== 'header' && sec.key !== 'identification').map(part));

  const header = h('header', { class: 'practice-header' }, title,
    languageTabs(s, { title, summary, objective, note }), note, publishedBy, summary);
  return [header, identification, body];
}

// at is the value at a JSON path of the sheet ("funding.notes"), or undefined.
function at(s, path) {
  return path.split('.').reduce((o, k) => o?.[k], s);
}

// renderers turn a field's value into what its row shows, by the "as" of
// fields.js; a falsy result leaves the row out. s is the whole sheet.
const renderers = {
  text: (v, s) => text(v, s.language),
  plain: (v) => v,
  location: (_, s) => s.location?.lat != null && s.location?.lon != null && `${s.location.lat}, ${s.location.lon}`,
  country: (v) => v && `${countryName(v)} (${v})`,
  language: (v) => v && `${languageName(v)} (${v})`,
  years: (_, s) => years(s),
  yes: (v) => v && 'Yes',
  duration: (v) => v && `${num(v)} ${v === 1 ? 'year' : 'years'}`,
  codes: (v) => codes(v),
  labels: (v) => v?.length && v.map(label).join(', '),
  list: (v) => v?.length && h('ul', {}, v.map((n) => h('li', {}, n))),
  eur: (v) => v != null && eur(v),
  number: (v) => v != null && num(v),
  label: (v) => v && label(v),
  yesno: (v) => yesNo(v),
  mail: (v) => v && mailLink(v),
  link: (v) => v && link(v, v),
  links: (v) => v?.length && h('ul', { class: 'links' }, v.map((l) => h('li', {}, link(l.url, l.title || l.url)))),
  tags: (v) => v?.length && h('ul', { class: 'tags' }, v.map((tag) => h('li', {}, tag))),
};

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

// isOrgRecord: the record's publisher is an organisation, whose records
// its delegates sign (a plain publisher signs its own).
function isOrgRecord(rec) {
  return Boolean(rec.organisation) || Boolean(rec.signer && rec.signer !== rec.publisher);
}

// publisherName is the name to show for the publisher: an organisation's
// own name, else its profile's.
function publisherName(rec, org) {
  return org?.name || rec.organisation || rec.profile?.name || '';
}

function provenance(rec, org) {
  const verified = rec.signature_verified;
  const row = (field, title, ...value) => [h('dt', {}, title), h('dd', { dataset: { field } }, ...value)];
  const name = publisherName(rec, org);
  return h('section', { id: 'provenance', class: 'sheet-section provenance', 'aria-labelledby': 'h-provenance' },
    h('h2', { id: 'h-provenance' }, 'Provenance'),
    h('dl', { class: 'facts' },
      isOrgRecord(rec)
        ? row('publisher', 'Organisation',
          h('a', { class: 'org', href: orgHash(rec.publisher) }, name || 'this organisation\u2019s page'), ' ',
          h('code', { class: 'peer' }, rec.publisher),
          org?.adopts ? h('span', { class: 'formerly' }, 'formerly ', h('code', { class: 'peer' }, org.adopts)) : null)
        : row('publisher', 'Publisher',
          name ? [h('span', { class: 'org' }, name), ' '] : null,
          h('code', { class: 'peer' }, rec.publisher)),
      signerRow(rec, org),
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

// signerRow says which key signed and what that key is to the publisher.
function signerRow(rec, org) {
  const signer = rec.signer || rec.publisher;
  let st;
  if (!isOrgRecord(rec)) st = { role: 'publisher', text: ['the publisher\u2019s own key'] };
  else if (org) st = keyStatus(org, signer, rec.time, rec.seq);
  else st = { role: 'unknown', text: ['this node holds no operation of the organisation to say what the key is'] };
  const warn = st.role === 'revoked' || st.role === 'expired' || st.role === 'unknown';
  return [h('dt', {}, 'Signing key'),
    h('dd', { dataset: { field: 'signer', role: st.role } }, h('code', { class: 'peer' }, signer),
      h('span', { class: warn ? 'key-status warn' : 'key-status' }, st.text))];
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
