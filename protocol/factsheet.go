package protocol

// FactSheet is one integration practice, protocol v1. Its fields follow the
// model fact sheet of the 2012 Committee of the Regions study (questions
// 2.1-2.15) and the case-study headings of its Appendix A. The JSON names
// are the wire names and the YAML keys staff write; PROTOCOL.md documents
// each field, its rule and its limit. Zero values mean "not given".
type FactSheet struct {
	// ID is chosen by the publisher, unique among its practices:
	// [a-z0-9-], 3-64 characters, starting with a letter or digit.
	ID string `json:"id"`
	// Title is the name of the programme or project (2.1), in Language.
	Title string `json:"title"`
	// Language is the BCP 47 tag of the sheet's text fields, in canonical form.
	Language string `json:"language"`
	// Summary is a short abstract.
	Summary string `json:"summary,omitempty"`
	// Translations maps BCP 47 tags (other than Language) to translated texts.
	Translations map[string]Translation `json:"translations,omitempty"`

	// Country is the ISO 3166-1 alpha-2 code, upper case.
	Country string `json:"country"`
	// Region and City locate the practice; both optional.
	Region string `json:"region,omitempty"`
	City   string `json:"city,omitempty"`
	// Location is the practice's place as a point, nil when not given. A
	// sheet that carries it, even empty, is a v2 record (PROTOCOL.md
	// 12.8), which v1 peers never receive; a writer leaves an empty
	// location out (nil), as ParseSheet does.
	Location *Location `json:"location,omitzero"`
	// Organiser is the organisation that initiated or runs the practice.
	Organiser string `json:"organiser"`

	// StartYear is the year the practice began (2.2).
	StartYear int `json:"start_year"`
	// EndYear is the year it ended or will end; 0 when ongoing or unknown.
	EndYear int `json:"end_year,omitzero"`
	// Ongoing is true for a practice without an end; then EndYear is 0.
	Ongoing bool `json:"ongoing,omitzero"`
	// DurationYears is the planned duration (2.2); 0 when not given.
	DurationYears float64 `json:"duration_years,omitzero"`

	// Context and Challenges are Appendix A's "introduction and context"
	// and "policy challenges".
	Context    string `json:"context,omitempty"`
	Challenges string `json:"challenges,omitempty"`
	// Objective is the main objective (2.3), required.
	Objective string `json:"objective"`
	// Dimensions are the ticked boxes of 2.3, at least one, from Dimensions.
	Dimensions []string `json:"dimensions"`
	// Issues (from Issues) and IssuesText describe what the practice tackles (2.4).
	Issues     []string `json:"issues,omitempty"`
	IssuesText string   `json:"issues_text,omitempty"`
	// TargetGroups (from TargetGroups) and TargetGroupsText describe whom it serves (2.4).
	TargetGroups     []string `json:"target_groups,omitempty"`
	TargetGroupsText string   `json:"target_groups_text,omitempty"`
	// Assistance is the kind of assistance provided (2.5).
	Assistance string `json:"assistance,omitempty"`
	// Activities are Appendix A's "main project activities".
	Activities string `json:"activities,omitempty"`
	// StaffTraining is the training given to the staff involved.
	StaffTraining string `json:"staff_training,omitempty"`

	// Funding answers 2.6.
	Funding *Funding `json:"funding,omitempty"`
	// Partners answers 2.7 and 2.9.
	Partners *Partners `json:"partners,omitempty"`
	// Beneficiaries is the number of beneficiaries so far (2.10); nil when not given.
	Beneficiaries *int64 `json:"beneficiaries,omitempty"`
	// BeneficiariesText qualifies the number.
	BeneficiariesText string `json:"beneficiaries_text,omitempty"`
	// Achievement answers 2.11, from Achievements.
	Achievement string `json:"achievement,omitempty"`
	// Outcomes are the results that show success (2.12).
	Outcomes string `json:"outcomes,omitempty"`
	// PartOfNationalProgramme answers 2.13; nil when not given.
	PartOfNationalProgramme *bool `json:"part_of_national_programme,omitempty"`
	// Transferability answers 2.14 (Appendix A: "scope for replication").
	Transferability *Transferability `json:"transferability,omitempty"`
	// Evaluation is the evaluation type, from Evaluations; EvaluationText details it.
	Evaluation     string `json:"evaluation,omitempty"`
	EvaluationText string `json:"evaluation_text,omitempty"`
	// OtherInformation answers 2.15.
	OtherInformation string `json:"other_information,omitempty"`

	// Contact is organisation-level; the protocol asks for no personal data.
	Contact *Contact `json:"contact,omitempty"`
	// Links are related web pages.
	Links []Link `json:"links,omitempty"`
	// Tags are free keywords: [a-z0-9-], at most MaxTagLen characters.
	Tags []string `json:"tags,omitempty"`
}

// Translation is a sheet's main texts in another language.
type Translation struct {
	Title     string `json:"title"`
	Summary   string `json:"summary,omitempty"`
	Objective string `json:"objective,omitempty"`
}

// Funding is the money made available for a practice (question 2.6).
type Funding struct {
	// AmountEUR is the amount in whole euros; nil when not given.
	AmountEUR *int64 `json:"amount_eur,omitempty"`
	// PeriodYears is the period the amount covers; 0 when not given.
	PeriodYears float64 `json:"period_years,omitzero"`
	// Sources are the main sources, from FundingSources.
	Sources []string `json:"sources,omitempty"`
	// Notes qualify the figures.
	Notes string `json:"notes,omitempty"`
}

// Partners are the organisations involved in a practice (2.7, 2.9).
type Partners struct {
	// Types are the ticked boxes, from PartnerTypes.
	Types []string `json:"types,omitempty"`
	// Names are organisation names.
	Names []string `json:"names,omitempty"`
	// Description covers relations with other initiatives and partners.
	Description string `json:"description,omitempty"`
}

// Transferability says whether and how others could replicate a practice.
type Transferability struct {
	// Replicable answers "could other cities and regions learn from it"; nil when not given.
	Replicable *bool `json:"replicable,omitempty"`
	// Lessons explains why, or why not.
	Lessons string `json:"lessons,omitempty"`
}

// Contact is an organisation-level contact: a unit, a generic mailbox, a
// website. Personal names and numbers do not belong here.
type Contact struct {
	Organisation string `json:"organisation,omitempty"`
	Unit         string `json:"unit,omitempty"`
	Email        string `json:"email,omitempty"`
	Website      string `json:"website,omitempty"`
}

// Link is a related web page.
type Link struct {
	Title string `json:"title,omitempty"`
	URL   string `json:"url"`
}

// Profile describes a publishing organisation. It travels as an
// announcement of kind "profile"; the latest one of a publisher wins.
type Profile struct {
	// Name of the organisation, required.
	Name string `json:"name"`
	// Country is ISO 3166-1 alpha-2, upper case, required.
	Country string `json:"country"`
	// Level is one of Levels, required.
	Level string `json:"level"`
	// Website is an http(s) URL.
	Website string `json:"website,omitempty"`
	// Languages are the BCP 47 tags the organisation publishes in.
	Languages []string `json:"languages,omitempty"`
	// Description is a short presentation.
	Description string `json:"description,omitempty"`
}

// Retraction withdraws one practice of the publisher, or one of its
// experience records.
type Retraction struct {
	// ID is the slot withdrawn: a practice ID, or an experience record's
	// slot (ExperienceSlot, EndorsementSlot).
	ID string `json:"id"`
	// Reason is optional free text.
	Reason string `json:"reason,omitempty"`
}
