package protocol

import "slices"

// Controlled vocabularies of protocol v1. They are wire enums: values are
// only ever appended, never renamed or removed.

// Dimensions of integration (model fact sheet, question 2.3).
var Dimensions = []string{"legal_political", "socio_economic", "cultural"}

// Issues a practice tackles (question 2.4, coded).
var Issues = []string{
	"reception", "legal_status", "language", "education", "employment",
	"entrepreneurship", "housing", "health", "social_services", "information",
	"civic_participation", "political_representation", "anti_discrimination",
	"intercultural_dialogue", "social_cohesion", "family", "gender_equality",
	"culture", "other",
}

// TargetGroups a practice addresses (question 2.4, coded).
var TargetGroups = []string{
	"all_residents", "migrants", "third_country_nationals", "newcomers",
	"refugees", "asylum_seekers", "women", "children", "youth", "parents",
	"families", "unemployed", "workers", "entrepreneurs", "students", "elderly",
	"unaccompanied_minors", "undocumented", "roma", "ethnic_minorities",
	"migrant_associations", "public_officials", "professionals",
	"host_community", "other",
}

// FundingSources of a practice (question 2.6). "private" (foundations,
// sponsors) is an addition to the model fact sheet's four boxes.
var FundingSources = []string{"local", "regional", "national", "eu", "private"}

// PartnerTypes of a practice (question 2.7).
var PartnerTypes = []string{
	"migrant_associations", "civil_society", "employers_unions",
	"public_authorities", "other",
}

// Achievements answers whether the practice achieved its objectives (question 2.11).
var Achievements = []string{"fully", "partially", "not_achieved", "unknown"}

// Evaluations says how the practice was or will be evaluated (Appendix A).
var Evaluations = []string{"internal", "external", "none", "planned"}

// Levels of a publishing organisation (profile).
var Levels = []string{"municipality", "province", "region", "national", "network", "other"}

func inVocab(vocab []string, v string) bool { return slices.Contains(vocab, v) }

// Countries are the country codes protocol v1 accepts (PROTOCOL.md
// section 5.2), sorted: the 249 codes ISO 3166-1 assigns officially; XK
// (Kosovo: user-assigned, used by the European Union and CLDR); and 34
// former or exceptionally reserved codes (CountriesFormer). UK and EL are
// not among them (CountryHint). A closed list: it does not follow later
// editions of ISO 3166-1 except by a protocol change, which only adds.
var Countries = []string{
	"AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AN", "AO", "AQ", "AR",
	"AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG",
	"BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BU",
	"BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
	"CL", "CM", "CN", "CO", "CP", "CQ", "CR", "CS", "CT", "CU", "CV", "CW",
	"CX", "CY", "CZ", "DD", "DE", "DG", "DJ", "DK", "DM", "DO", "DY", "DZ",
	"EA", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "EZ", "FI", "FJ", "FK",
	"FM", "FO", "FQ", "FR", "FX", "GA", "GB", "GD", "GE", "GF", "GG", "GH",
	"GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY",
	"HK", "HM", "HN", "HR", "HT", "HU", "HV", "IC", "ID", "IE", "IL", "IM",
	"IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "JT", "KE",
	"KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB",
	"LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD",
	"ME", "MF", "MG", "MH", "MI", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
	"MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE",
	"NF", "NG", "NH", "NI", "NL", "NO", "NP", "NQ", "NR", "NT", "NU", "NZ",
	"OM", "PA", "PC", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
	"PS", "PT", "PU", "PW", "PY", "PZ", "QA", "RE", "RH", "RO", "RS", "RU",
	"RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL",
	"SM", "SN", "SO", "SR", "SS", "ST", "SU", "SV", "SX", "SY", "SZ", "TA",
	"TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TP",
	"TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "UN", "US", "UY", "UZ",
	"VA", "VC", "VD", "VE", "VG", "VI", "VN", "VU", "WF", "WK", "WS", "XK",
	"YD", "YE", "YT", "YU", "ZA", "ZM", "ZR", "ZW",
}

// CountriesFormer are the codes of Countries that ISO 3166-1 no longer
// assigns (withdrawn, transitionally or exceptionally reserved), kept so
// that sheets about the past and places such as the Canary Islands (IC)
// can name them.
var CountriesFormer = []string{
	"AC", "AN", "BU", "CP", "CQ", "CS", "CT", "DD", "DG", "DY", "EA", "EZ",
	"FQ", "FX", "HV", "IC", "JT", "MI", "NH", "NQ", "NT", "PC", "PU", "PZ",
	"RH", "SU", "TA", "TP", "UN", "VD", "WK", "YD", "YU", "ZR",
}
