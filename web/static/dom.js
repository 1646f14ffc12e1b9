// DOM and formatting helpers. Text always goes in as text nodes or
// attribute values, never as markup.

/**
 * h builds an element. attrs: "class", "dataset" (object), "on<event>"
 * (listener), true for an empty boolean attribute; null, undefined and
 * false are skipped. Children are nodes or strings (as text), nested arrays
 * allowed; null, undefined and false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  add(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** add appends children (nodes or strings as text) to el. */
export function add(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** replace empties el, then appends children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

const numberFmt = new Intl.NumberFormat();
const eurFmt = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
const eurShortFmt = new Intl.NumberFormat(undefined, {
  style: 'currency', currency: 'EUR', notation: 'compact', maximumFractionDigits: 1,
});
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** num formats a count with the user's thousands separators. */
export const num = (n) => numberFmt.format(n);
/** eur formats whole euros: "€1,379,550". */
export const eur = (n) => eurFmt.format(n);
/** eurShort formats euros compactly for chart labels: "€1.4M". */
export const eurShort = (n) => eurShortFmt.format(n);

/** plural gives "1 practice", "43 practices". */
export function plural(n, one, many = one + 's') {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** time is a <time> showing iso in the user's locale, with iso as title. */
export function time(iso) {
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : dateTimeFmt.format(d);
  return h('time', { datetime: iso, title: iso }, text);
}

function displayNames(type) {
  try {
    return new Intl.DisplayNames(undefined, { type });
  } catch {
    return null;
  }
}
const regionNames = displayNames('region');
const languageNames = displayNames('language');

function nameOf(names, code) {
  try {
    return names?.of(code) ?? code;
  } catch {
    return code;
  }
}

/** countryName gives "Italy" for "IT" (in the user's language). */
export const countryName = (code) => nameOf(regionNames, code);
/** languageName gives "Italian" for "it" (in the user's language). */
export const languageName = (tag) => nameOf(languageNames, tag);

/** autonym gives a language's own name: "italiano" for "it". */
export function autonym(tag) {
  try {
    const name = new Intl.DisplayNames([tag], { type: 'language' }).of(tag) ?? tag;
    return name.charAt(0).toLocaleUpperCase(tag) + name.slice(1);
  } catch {
    return tag;
  }
}

// Readable names of the protocol's codes where "socio_economic" ->
// "Socio economic" would not do.
const codeLabels = {
  legal_political: 'Legal and political',
  socio_economic: 'Socio-economic',
  eu: 'EU',
  fully: 'Fully achieved',
  partially: 'Partially achieved',
  not_achieved: 'Not achieved',
  unknown: 'Not known',
  internal: 'Internal',
  external: 'External',
  none: 'None',
  planned: 'Planned',
  employers_unions: 'Employers and trade unions',
  civil_society: 'Civil society and NGOs',
  anti_discrimination: 'Anti-discrimination',
  third_country_nationals: 'Third-country nationals',
};

/** label gives a readable name for a protocol code. */
export function label(code) {
  if (codeLabels[code]) return codeLabels[code];
  const s = String(code).replaceAll('_', ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** years gives "2009–2013", "2022–ongoing" or "2010". */
export function years({ start_year: from, end_year: to, ongoing }) {
  if (!from) return '';
  if (ongoing) return `${from}–ongoing`;
  if (to && to !== from) return `${from}–${to}`;
  return String(from);
}

/** webURL returns s when it is an http(s) URL, else null. */
export function webURL(s) {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** practiceHash is the page of one practice. */
export function practiceHash(publisher, id) {
  return `#/practice/${encodeURIComponent(publisher)}/${encodeURIComponent(id)}`;
}
