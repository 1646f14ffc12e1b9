package protocol

// Limits of protocol v1. They are part of the protocol: a peer that accepts
// more than these is not a v1 peer, and every limit is checked before the
// data it bounds is decoded further. PROTOCOL.md lists them in a table.
const (
	// MaxEnvelopeSize bounds the marshalled envelope (64 KiB). Checked before
	// any decoding.
	MaxEnvelopeSize = 64 << 10
	// MaxPayloadSize bounds the announcement JSON inside the envelope (60 KiB).
	MaxPayloadSize = 60 << 10
	// MaxSheetFileSize bounds a fact-sheet file written by staff (256 KiB;
	// YAML carries comments and indentation the wire form does not).
	MaxSheetFileSize = 256 << 10

	// MaxTitleLen bounds titles, in characters (Unicode code points).
	MaxTitleLen = 300
	// MaxNameLen bounds organiser, partner, contact and profile names.
	MaxNameLen = 300
	// MaxPlaceLen bounds region and city.
	MaxPlaceLen = 200
	// MaxSummaryLen bounds summaries and descriptions.
	MaxSummaryLen = 2000
	// MaxTextLen bounds each long free-text field (objective, outcomes, ...).
	MaxTextLen = 8000
	// MaxReasonLen bounds the reason of a retraction.
	MaxReasonLen = 1000
	// MaxEndorsementTextLen bounds the text of an endorsement (an
	// experience record of type endorsement) and of its translations.
	MaxEndorsementTextLen = 500
	// MaxURLLen bounds every URL.
	MaxURLLen = 2048
	// MaxEmailLen bounds the contact e-mail address.
	MaxEmailLen = 254
	// MaxTagLen bounds one tag.
	MaxTagLen = 40

	// MaxTranslations bounds the number of translations of one sheet.
	MaxTranslations = 30
	// MaxPartnerNames bounds partners.names.
	MaxPartnerNames = 50
	// MaxLinks bounds links.
	MaxLinks = 20
	// MaxTags bounds tags.
	MaxTags = 30
	// MaxProfileLanguages bounds a profile's languages.
	MaxProfileLanguages = 30
	// MaxExperienceTranslations bounds the translations of one
	// experience record.
	MaxExperienceTranslations = 30

	// MinYear is the earliest year any year field may hold.
	MinYear = 1900
	// MaxYear is the latest year any year field may hold.
	MaxYear = 2100
	// MaxDurationYears bounds duration_years and funding.period_years.
	MaxDurationYears = 100
	// MaxAmountEUR bounds funding.amount_eur (one trillion euros).
	MaxAmountEUR = 1_000_000_000_000
	// MaxBeneficiaries bounds beneficiaries.
	MaxBeneficiaries = 10_000_000_000
	// MaxSeq is the largest sequence number, 2^53-1, so that every JSON
	// implementation reads it exactly.
	MaxSeq = 1<<53 - 1
)
