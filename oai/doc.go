// Package oai is an OAI-PMH 2.0 data provider over the node's catalogue, so
// that digital libraries, research infrastructures and aggregators can
// harvest every practice this node holds (its own and its replicas of
// everyone else's) with the protocol they already speak.
//
// NewHandler returns an http.Handler; the node mounts it at /oai (both
// "/oai" and "/oai/" if the schema of the khantara format is to be served
// too, see SchemaFile). It reads the store only and keeps no state between
// requests except a cached lower bound for earliestDatestamp.
//
// # Items, identifiers and datestamps
//
// An item is one practice slot of one publisher: the current version of a
// practice, or its retraction. Profiles are not items.
//
//	identifier  oai:khantara:<publisher peer ID>:<practice id>
//	            e.g. oai:khantara:12D3KooW...:al-khantara-sicilia
//	datestamp   the record's store.Record.ReceivedAt: when this node last
//	            applied a new version (or the retraction) of the item, in UTC,
//	            truncated to seconds (YYYY-MM-DDThh:mm:ssZ)
//
// The namespace "khantara" is not a domain name, so Identify carries no
// oai-identifier description (that schema requires one); it carries a
// khantara:repository description instead, naming the node and the
// identifier format.
//
// A retracted practice is a tombstone the store keeps forever, so deleted
// records are "persistent": the item is listed with <header
// status="deleted"> and no metadata, with the datestamp of the retraction.
//
// # Sets
//
// Sets group items by publisher, which the store can list by prefix and which
// a tombstone still names (a country set could not report deletions, since a
// retraction carries no country):
//
//	publisher               every item
//	publisher:<peer ID>     the items of one publisher; setName is the
//	                        publisher's profile name (the peer ID without a
//	                        profile), setDescription an oai_dc record of the
//	                        profile
//
// Headers carry the one leaf set "publisher:<peer ID>". An unknown set
// selects nothing (noRecordsMatch); noSetHierarchy is never returned.
//
// # Metadata formats
//
// oai_dc (unqualified Dublin Core, namespace
// http://www.openarchives.org/OAI/2.0/oai_dc/), mapped from a fact sheet as:
//
//	dc:title        title (xml:lang = language); each translation's title
//	dc:creator      organiser
//	dc:publisher    an organisation's name (from its operations,
//	                Config.Chains), else the publisher's profile name, else
//	                the organiser
//	dc:contributor  partners.names
//	dc:subject      dimensions, issues and tags (their codes)
//	dc:description  summary and objective; each translation's summary and objective
//	dc:date         start_year (YYYY)
//	dc:type         "Text" (DCMI Type) and "practice"
//	dc:identifier   the OAI identifier
//	dc:language     language, then each translation's language
//	dc:relation     each link's URL, contact.website
//	dc:coverage     country (ISO 3166-1 alpha-2), region, city, and the years
//	                as "2010/2012", "2010/.." (ongoing) or "2010"
//
// Empty values are left out, and a value an element already has (a tag
// repeating an issue code, a city named like its region) is given once.
//
// khantara (namespace urn:khantara:factsheet:1, XML Schema served at
// <baseURL>/factsheet-1.xsd, also returned by Schema): the whole fact sheet.
// The root element <factsheet> has attributes publisher (a peer ID, or an
// organisation's ID), signer (the peer ID of the key that signed: the
// publisher itself, or a delegate of the organisation), seq and announced
// (the announcement's time, RFC 3339). Every member of the JSON
// wire form (PROTOCOL.md) becomes an element of the same name, in the
// order of protocol.FactSheet; absent members are omitted; arrays become a
// wrapper element with one child per value, named in the singular
// (dimensions/dimension, issues/issue, target_groups/target_group,
// funding/sources/source, partners/types/type, partners/names/name,
// links/link, tags/tag); translations become
// translations/translation[@language] with title, summary and objective.
//
// # Paging
//
// ListIdentifiers and ListRecords return at most Config.PageSize items
// per response. The resumption token is self-contained (no server state):
// base64url (no padding) of
//
//	1|<I or R>|<metadataPrefix>|<from>|<until>|<set>|<cursor>|<completeListSize>|<store cursor>
//
// where cursor counts the items returned before the next page,
// completeListSize is 0 when unknown, and the store cursor (store.Cursor)
// is the position to resume after. Tokens do not expire. completeListSize
// is given when neither from nor until is (it comes from the store's
// per-publisher counters), and on the last page, which carries an empty
// <resumptionToken/>, as the number of items actually listed; cursor
// always. A list that fits in one response has no resumptionToken.
//
// The store lists items in (publisher, practice id) order, not by
// datestamp, so a page is filled by walking from the cursor and skipping
// items whose datestamp falls outside from/until. A harvest is consistent
// for items unchanged while it runs: an item updated during a harvest is
// returned in its old or its new version, or (if it sorts before the
// cursor) not at all; its new datestamp is later than the harvest's first
// responseDate, so the next incremental harvest (from = that
// responseDate) picks it up. Should every remaining item of a list leave
// its from/until window during a harvest, the resumed request answers
// noRecordsMatch.
//
// # Requests
//
// GET with a query string, or POST with an
// application/x-www-form-urlencoded body, as the protocol requires; other
// methods get HTTP 405. Every protocol answer, errors included, is HTTP
// 200 with Content-Type text/xml; charset=utf-8. A store failure is HTTP
// 500 with a plain-text message and is logged.
package oai
