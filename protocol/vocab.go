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
