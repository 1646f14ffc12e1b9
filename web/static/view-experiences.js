// The experiences on a practice's page (PROTOCOL.md section 13): counts
// by type, the adaptations with their outcomes, lessons, questions with
// their answers threaded under them, endorsements, and the links between
// an original and the practices adapted from it, both ways.

import { h, add, label, years, time, countryName, autonym, languageName, practiceHash } from './dom.js';
import { idLink } from './org.js';
import { TYPES, countText, countOf, thread, refKey } from './experiences.js';

/**
 * experiencesSection is the section#experiences of a practice's page.
 * data is the API's answer for the practice's experiences; titles maps
 * refKey to the title of a practice this node holds (for the practices
 * adaptations resulted in); seq is the version of the practice shown (0
 * when none is).
 */
export function experiencesSection(data, titles, seq) {
  const list = data.experiences ?? [];
  const of = (type) => list.filter((x) => x.experience.type === type);
  const section = h('section', { id: 'experiences', class: 'sheet-section experiences', 'aria-labelledby': 'h-experiences',
    dataset: { state: data.state } }, h('h2', { id: 'h-experiences', tabindex: '-1' }, 'Experiences of this practice'));
  if (data.state === 'retracted') {
    add(section, h('p', { class: 'notice warn', id: 'experiences-retracted' },
      h('strong', {}, 'These experiences are about a retracted practice. '),
      'Its publisher withdrew it after they were written; they stay readable, and only their authors can retract them.'));
  } else if (data.state === 'not_held') {
    add(section, h('p', { class: 'notice warn', id: 'experiences-not-held' },
      h('strong', {}, 'This node does not hold the practice these experiences are about. '),
      'It may arrive later, or its publisher is not kept here.'));
  }
  add(section, h('ul', { id: 'experience-counts', class: 'exp-counts', 'aria-label': 'Experiences by type' },
    TYPES.map((t) => h('li', { dataset: { type: t, count: countOf(data.counts, t) } }, countText(data.counts, t)))));
  if (!list.length) {
    return add(section, h('p', { class: 'empty' }, 'No organisation has shared an experience of this practice here yet.'));
  }
  const ctx = { titles, seq };
  // part is a titled sub-section holding content made of items, or
  // nothing when there are no items.
  const part = (key, title, items, content) => items.length
    ? h('section', { id: `exp-${key}`, class: 'exp-part', 'aria-labelledby': `h-exp-${key}` },
      h('h3', { id: `h-exp-${key}` }, title), content(items))
    : null;
  const items = (render) => (xs) => h('ol', { class: 'exp-list' }, xs.map((x) => h('li', {}, render(x))));
  const threads = thread(list).filter((n) => n.exp.experience.type === 'question' || n.exp.experience.type === 'answer');
  return add(section, [
    part('adaptations', 'Where it was adapted', of('adaptation'), items((x) => article(x, adaptationBody(x.experience, ctx), ctx))),
    part('lessons', 'Lessons learned', of('lesson'), items((x) => article(x, lessonBody(x.experience), ctx))),
    part('questions', 'Questions and answers', threads,
      (ns) => h('ol', { class: 'exp-list thread' }, ns.map((n) => threadItem(n, ctx)))),
    part('endorsements', 'Endorsed by', of('endorsement'),
      (xs) => h('ul', { class: 'endorsements' }, xs.map((x) => endorsement(x)))),
  ]);
}

/**
 * experienceSummary is the p#experience-summary of a practice's header:
 * the counts of its experiences and a button that moves to them; null
 * when it has none.
 */
export function experienceSummary(data) {
  if (!data.experiences?.length) return null;
  const counts = TYPES.filter((t) => countOf(data.counts, t)).map((t) => countText(data.counts, t));
  return h('p', { id: 'experience-summary', class: 'exp-summary' },
    `Experiences of other organisations: ${counts.join(', ')}. `,
    h('button', { type: 'button', class: 'link-button', onclick: () => {
      const heading = document.getElementById('h-experiences');
      heading?.scrollIntoView({ block: 'start' });
      heading?.focus({ preventScroll: true });
    } }, 'Read them'));
}

// threadItem is a question or an answer with its replies under it.
function threadItem(node, ctx) {
  const e = node.exp.experience;
  return h('li', {}, article(node.exp, text(e.text, e.language), ctx),
    node.replies.length ? h('ol', { class: 'replies', 'aria-label': `Answers to ${e.title || 'this answer'}` },
      node.replies.map((r) => threadItem(r, ctx))) : null);
}

// article is one experience record: its heading, who wrote it and when,
// its body, its translations.
function article(x, body, ctx) {
  const e = x.experience;
  const heading = e.title ? h('h4', { lang: e.language }, e.title) : h('h4', {}, e.type === 'answer' ? 'Answer' : label(e.type));
  const seqNote = ctx.seq && e.about?.seq && e.about.seq !== ctx.seq
    ? h('span', { class: 'note' }, ` · written about an earlier version (sequence ${e.about.seq}; now ${ctx.seq})`) : null;
  return h('article', { class: `experience ${e.type}`, lang: e.language,
    dataset: { type: e.type, author: x.publisher, slot: x.slot, id: e.id ?? '' } },
  heading,
  h('p', { class: 'exp-meta' }, `${label(e.type)} by `, idLink(x.publisher, x.author_name), ', ', time(x.time), seqNote),
  body, translations(e));
}

// adaptationBody is where and when the practice was adapted, what was
// changed and what came of it.
function adaptationBody(e, ctx) {
  const where = [e.city, e.region, e.country && `${countryName(e.country)} (${e.country})`].filter(Boolean).join(', ');
  const result = e.practice?.id
    ? h('a', { class: 'resulting', href: practiceHash(e.practice.publisher, e.practice.id) },
      ctx.titles.get(refKey(e.practice)) || e.practice.id)
    : null;
  return facts([
    ['Where', where, 'where'],
    ['When', years(e), 'when'],
    ['What changed, and why', text(e.changes, e.language), 'changes'],
    ['Achievement', e.achievement && label(e.achievement), 'achievement'],
    ['Evaluation', e.evaluation && label(e.evaluation), 'evaluation'],
    ['Outcomes', text(e.outcomes, e.language), 'outcomes'],
    ['Notes', text(e.text, e.language), 'text'],
    ['Resulting practice', result, 'practice'],
  ]);
}

// lessonBody is a lesson's text and what worked, what did not, for whom.
function lessonBody(e) {
  return [text(e.text, e.language), facts([
    ['What worked', text(e.worked, e.language), 'worked'],
    ['What did not work', text(e.did_not_work, e.language), 'did_not_work'],
    ['For whom', text(e.for_whom, e.language), 'for_whom'],
  ])];
}

// endorsement is one line: who recommends the practice, when, and why.
function endorsement(x) {
  const e = x.experience;
  return h('li', { class: 'experience endorsement', dataset: { type: 'endorsement', author: x.publisher, slot: x.slot } },
    idLink(x.publisher, x.author_name), ', ', time(x.time),
    e.text ? h('blockquote', { lang: e.language }, e.text) : null, translations(e));
}

// translations are the record's title and text in other languages, each
// behind a disclosure (keyboard-usable as it is).
function translations(e) {
  const langs = Object.keys(e.translations ?? {}).filter((l) => l !== e.language).sort();
  return langs.map((lang) => {
    const tr = e.translations[lang];
    return h('details', { class: 'exp-translation', dataset: { lang } },
      h('summary', {}, `In ${languageName(lang)} (`, h('span', { lang }, autonym(lang)), ')'),
      tr.title ? h('p', { class: 'exp-tr-title', lang }, tr.title) : null,
      text(tr.text, lang));
  });
}

/**
 * adaptedFrom is the p#adapted-from of a practice that adaptations name
 * as the practice they resulted in: a link to each original. adaptations
 * are those records; titles maps refKey to a held practice's title.
 */
export function adaptedFrom(adaptations, titles) {
  if (!adaptations.length) return null;
  return h('div', { id: 'adapted-from', class: 'adapted-from' },
    h('h2', { class: 'visually-hidden' }, 'Adapted from'),
    h('ul', {}, adaptations.map((x) => {
      const e = x.experience;
      return h('li', { dataset: { original: refKey(e.about), author: x.publisher, slot: x.slot } },
        'Adapted from ', h('a', { class: 'original', href: practiceHash(e.about.publisher, e.about.id) }, titles.get(refKey(e.about)) || e.about.id),
        x.about_state === 'retracted' ? ' (since retracted)' : x.about_state === 'not_held' ? ' (not held here)' : '',
        ': ', h('span', { lang: e.language }, e.title), ', by ', idLink(x.publisher, x.author_name),
        e.start_year ? ` (${years(e)})` : '');
    })));
}

// facts is a <dl> of the rows [term, value, field] with a value, or null.
function facts(rows) {
  const kept = rows.filter(([, v]) => v);
  return kept.length
    ? h('dl', { class: 'facts' }, kept.map(([k, v, field]) => [h('dt', {}, k), h('dd', { dataset: { field } }, v)]))
    : null;
}

// text is a paragraph of prose in lang, or null.
function text(value, lang) {
  return value ? h('p', { class: 'prose', lang }, value) : null;
}
