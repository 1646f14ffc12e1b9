package protocol

// ParseExperience reads an experience record written by staff, in YAML or
// JSON (JSON is read as the YAML it also is), and validates it. The file
// holds the body only (the members of Experience), as a sheet file holds
// the sheet; it is bounded like a sheet file (MaxSheetFileSize). It
// returns nil and a *ValidationError listing every problem at once,
// unknown keys and wrong types included, each with its field path
// ("country", "about.publisher") and source line; a file over the limit
// wraps ErrTooLarge.
func ParseExperience(data []byte) (*Experience, error) { return parse[Experience](data) }

// ReadExperience reads an experience file like ParseExperience, but checks
// only its shape, for a publisher that validates once when it seals the
// announcement (see Draft). The error, a *ValidationError, is for a
// document that cannot be read at all (empty, not YAML, too large).
func ReadExperience(data []byte) (*Draft[Experience], error) {
	return read[Experience](data, "experience.")
}
