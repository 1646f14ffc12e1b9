// Package oai is an OAI-PMH 2.0 data provider over the node's catalogue, so
// that digital libraries, research infrastructures and aggregators can
// harvest every practice this node holds (its own and its replicas of
// everyone else's), and, when they ask for them, the experience records
// about them, with the protocol they already speak.
//
// NewHandler returns an http.Handler; the node mounts it at /oai (both
// "/oai" and "/oai/" if the schema of the khantara format is to be served
// too, see SchemaFile). It reads the store only and keeps no state between
// requests except a cached lower bound for earliestDatestamp.
//
// # Items, identifiers and datestamps
//
// An item is one practice slot of one publisher (the current version of
// a practice, or its retraction) or one experience slot of one publisher
// (an experience record, PROTOCOL.md section 13, or its retraction).
// Profiles and an organisation's operations are not items.
//
//	identifier  oai:khantara:<publisher ID>:<slot>, the slot a practice
//	            ID or an experience record's slot (PROTOCOL.md 13.3)
//	            e.g. oai:khantara:12D3KooW...:al-khantara-sicilia
//	                 oai:khantara:12D3KooW...:_exp/conseil-lille
//	                 oai:khantara:12D3KooW...:_endorse/12D3KooW.../cric-roubaix
//	datestamp   the record's store.Record.ReceivedAt: when this node last
//	            applied a new version (or the retraction) of the item, in UTC,
//	            truncated to seconds (YYYY-MM-DDThh:mm:ssZ)
//
// The namespace "khantara" is not a domain name, so Identify carries no
// oai-identifier description (that schema requires one); it carries a
// khantara:repository description instead, naming the node and the
// identifier format.
//
// A retraction is a tombstone the store keeps forever, so deleted
// records are "persistent": the item is listed with <header
// status="deleted"> and no metadata, with the datestamp of the retraction.
//
// # Sets
//
// Practice items are grouped by publisher, which the store can list by
// prefix and which a tombstone still names (a country set could not
// report deletions, since a retraction carries no country); experience
// items by type:
//
//	publisher               every practice item
//	publisher:<ID>          the practice items of one publisher; setName
//	                        is the organisation's or profile's name (the
//	                        ID without one), setDescription an oai_dc
//	                        record of the profile
//	experiences             every experience item
//	experiences:<type>      the experience items of one type: adaptation,
//	                        lesson, question, answer, endorsement
//
// ListSets names the experience sets once the node holds an experience
// item. Headers carry the one leaf set of the item: publisher:<ID>, or
// experiences:<type>. A tombstone keeps no type: that of an endorsement's
// slot (_endorse/...) is in experiences:endorsement, that of an _exp/
// slot in experiences and, since it was an adaptation, a lesson, a
// question or an answer, in each of those four type sets (a harvester
// ignores the deletion of an item it never had). completeListSize of a
// type set is not given on its first page.
//
// Experience items are listed only by a harvest that names an
// experiences set (and by GetRecord): a ListIdentifiers or ListRecords
// without a set, or with a publisher set, lists practice items only, as
// it did before experience records existed. This is a choice, and a
// departure from the letter of OAI-PMH, where a harvest without a set
// covers every item: the harvesters configured for this repository
// collect practices into catalogues, and should not start receiving
// questions, answers and one-line endorsements, in another root element,
// without asking for them. A harvester that wants both harvests the
// default list and the experiences set; an item is never in both.
//
// # Metadata formats
//
// oai_dc (unqualified Dublin Core, namespace
// http://www.openarchives.org/OAI/2.0/oai_dc/), mapped from a fact sheet
// as:
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
// An experience record maps to oai_dc as:
//
//	dc:title        title (xml:lang = language); each translation's title;
//	                without a title (an answer may have none, an
//	                endorsement has none): "Answer about: " or
//	                "Endorsement of: " and the practice's title (its ID
//	                when not held here)
//	dc:creator      the author: its organisation's name, else its
//	dc:publisher    profile's name, else its ID
//	dc:description  text, changes, outcomes, worked, did_not_work,
//	                for_whom (xml:lang = language); each translation's text
//	dc:date         the day it was signed (YYYY-MM-DD)
//	dc:type         "Text", "experience" and its type
//	dc:identifier   the OAI identifier
//	dc:language     language, then each translation's language
//	dc:relation     the OAI identifier of the practice it is about; of
//	                the record an answer replies to; of the practice an
//	                adaptation resulted in
//	dc:coverage     an adaptation's country, region, city and years
//
// khantara (namespace urn:khantara:factsheet:1, XML Schema served at
// <baseURL>/factsheet-1.xsd, also returned by Schema): the whole fact
// sheet, or the whole experience record.
//
// A fact sheet's root element <factsheet> has attributes publisher (a
// peer ID, or an organisation's ID), signer (the peer ID of the key that
// signed: the publisher itself, or a delegate of the organisation), seq
// and announced (the announcement's time, RFC 3339). Every member of the
// JSON wire form (PROTOCOL.md) becomes an element of the same name, in
// the order of protocol.FactSheet; absent members are omitted; arrays
// become a wrapper element with one child per value, named in the
// singular (dimensions/dimension, issues/issue, target_groups/target_group,
// funding/sources/source, partners/types/type, partners/names/name,
// links/link, tags/tag); translations become
// translations/translation[@language] with title, summary and objective.
//
// An experience record's root element <experience> has the same
// attributes and slot; every member of its JSON wire form (PROTOCOL.md
// 13.2) becomes an element of the same name, in the canonical order;
// about, in_reply_to and practice have the children publisher, id (and
// about seq); translations become translations/translation[@language]
// with title and text.
//
// # Paging
//
// ListIdentifiers and ListRecords return at most Config.PageSize items
// per response. The resumption token is self-contained (no server state):
// base64url (no padding) of
//
//	1|<I or R>|<metadataPrefix>|<from>|<until>|<set>|<cursor>|<completeListSize>|<store cursor>
//
// where set is the request's set ("" for none), cursor counts the items
// returned before the next page,
// completeListSize is 0 when unknown, and the store cursor (store.Cursor)
// is the position to resume after. Tokens do not expire. completeListSize
// is given when neither from nor until is and the set is not one
// experience type (it comes from the store's per-publisher counters),
// and on the last page, which carries an empty
// <resumptionToken/>, as the number of items actually listed; cursor
// always. A list that fits in one response has no resumptionToken.
//
// The store lists items in (publisher, slot) order, not by
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
