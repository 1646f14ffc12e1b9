// Experience records (PROTOCOL.md section 13) as the page reads them from
// the API (API.md, "Experiences"): the records about one practice, every
// adaptation held here, and the threads of questions and answers.

import { get, APIError } from './api.js';
import { plural } from './dom.js';

/** TYPES are the experience types, in the order the page shows them. */
export const TYPES = ['adaptation', 'lesson', 'question', 'answer', 'endorsement'];

// COUNT_NAMES are the members of the API's counts, by type.
const COUNT_NAMES = {
  adaptation: 'adaptations', lesson: 'lessons', question: 'questions', answer: 'answers', endorsement: 'endorsements',
};

/** countText is "2 adaptations" for counts (the API's object) and type. */
export function countText(counts, type) {
  return plural(counts?.[COUNT_NAMES[type]] ?? 0, type);
}

/** countOf is the count of type in counts (the API's object). */
export function countOf(counts, type) {
  return counts?.[COUNT_NAMES[type]] ?? 0;
}

/**
 * loadPracticeExperiences resolves to GET
 * /api/v1/practices/{publisher}/{id}/experiences: {about, state, counts,
 * experiences, adapted_in}.
 */
export function loadPracticeExperiences(publisher, id, signal) {
  return get(`practices/${encodeURIComponent(publisher)}/${encodeURIComponent(id)}/experiences`, null,
    'load the experiences of this practice', signal);
}

/** ADAPTATIONS_MAX bounds how many adaptations loadAdaptations reads. */
export const ADAPTATIONS_MAX = 10000;

/**
 * loadAdaptations pages through GET /api/v1/experiences?type=adaptation
 * and resolves to {adaptations, complete}: every adaptation held here,
 * up to ADAPTATIONS_MAX (complete is false when more were left).
 */
export async function loadAdaptations(signal) {
  const adaptations = [];
  let after = '';
  do {
    const params = { type: 'adaptation', limit: '1000' };
    if (after) params.after = after;
    const page = await get('experiences', params, 'load the adaptations', signal);
    adaptations.push(...page.experiences);
    after = page.next;
  } while (after && adaptations.length < ADAPTATIONS_MAX);
  return { adaptations, complete: !after };
}

/** refKey is the key of a practice reference {publisher, id}. */
export function refKey(ref) {
  return `${ref.publisher}/${ref.id}`;
}

/**
 * loadRecords fetches the records (GET /api/v1/practices/{publisher}/{id})
 * of the practices refs name, at most limit of them, and resolves to a
 * Map of refKey to the record, or to null for a practice this node does
 * not hold.
 */
export async function loadRecords(refs, signal, limit = 300) {
  const keys = [...new Map(refs.map((r) => [refKey(r), r])).values()].slice(0, limit);
  const out = new Map();
  await Promise.all(keys.map(async (ref) => {
    try {
      out.set(refKey(ref), await get(`practices/${encodeURIComponent(ref.publisher)}/${encodeURIComponent(ref.id)}`,
        null, 'load a practice', signal));
    } catch (err) {
      if (!(err instanceof APIError && err.status === 404)) throw err;
      out.set(refKey(ref), null);
    }
  }));
  return out;
}

/** slotKey names one experience record: its author and slot. */
export function slotKey(publisher, slot) {
  return `${publisher}\n${slot}`;
}

/**
 * thread arranges the experiences of one practice (API order, answers
 * among them) for display, as PROTOCOL.md 13.4 says: each answer under
 * the question or answer its in_reply_to names, when that record is in
 * the list; an answer whose record is missing, or which would close a
 * cycle of replies, stays at the top level. It returns the top-level
 * nodes, {exp, replies: [nodes]}, in the list's order; replies keep it
 * too.
 */
export function thread(list) {
  const nodes = list.map((exp) => ({ exp, replies: [], parent: null }));
  const bySlot = new Map(nodes.map((n) => [slotKey(n.exp.publisher, n.exp.slot), n]));
  for (const n of nodes) {
    const e = n.exp.experience;
    if (e.type !== 'answer' || !e.in_reply_to) continue;
    const to = bySlot.get(slotKey(e.in_reply_to.publisher, `_exp/${e.in_reply_to.id}`));
    if (to && to !== n && (to.exp.experience.type === 'question' || to.exp.experience.type === 'answer')) n.parent = to;
  }
  // A cycle is broken at its first member in the list's order: that
  // answer goes to the top level. (A chain that runs into a cycle it is
  // not part of is left alone: the cycle is broken at its own member.)
  for (const n of nodes) {
    const seen = new Set();
    for (let p = n.parent; p && !seen.has(p); p = p.parent) {
      if (p === n) {
        n.parent = null;
        break;
      }
      seen.add(p);
    }
  }
  const top = [];
  for (const n of nodes) (n.parent ? n.parent.replies : top).push(n);
  for (const n of nodes) delete n.parent;
  return top;
}
