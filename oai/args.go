package oai

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The arguments of OAI-PMH 2.0 requests.
const (
	argVerb            = "verb"
	argIdentifier      = "identifier"
	argMetadataPrefix  = "metadataPrefix"
	argFrom            = "from"
	argUntil           = "until"
	argSet             = "set"
	argResumptionToken = "resumptionToken"
)

// verbArgs says which arguments a verb takes.
type verbArgs struct {
	required, optional []string
	// exclusive is an argument that must come alone (with the verb), in
	// place of the required ones; "" if the verb has none.
	exclusive string
}

var verbSpecs = map[string]verbArgs{
	"Identify":            {},
	"ListMetadataFormats": {optional: []string{argIdentifier}},
	"ListSets":            {exclusive: argResumptionToken},
	"GetRecord":           {required: []string{argIdentifier, argMetadataPrefix}},
	"ListIdentifiers": {required: []string{argMetadataPrefix}, optional: []string{argFrom, argUntil, argSet},
		exclusive: argResumptionToken},
	"ListRecords": {required: []string{argMetadataPrefix}, optional: []string{argFrom, argUntil, argSet},
		exclusive: argResumptionToken},
}

// checkVerb returns the verb of a request, or badVerb.
func checkVerb(form url.Values) (string, error) {
	vs, ok := form[argVerb]
	switch {
	case !ok:
		return "", errorf(codeBadVerb, "The request has no verb argument.")
	case len(vs) > 1:
		return "", errorf(codeBadVerb, "The verb argument is repeated.")
	}
	if _, ok := verbSpecs[vs[0]]; !ok {
		return "", errorf(codeBadVerb, "%s is not an OAI-PMH verb.", quote(vs[0]))
	}
	return vs[0], nil
}

// checkArgs checks which arguments are present for the verb: none
// unknown, repeated or empty, the exclusive one alone, the required ones
// all there. Values are checked by the verbs.
func checkArgs(verb string, form url.Values) error {
	spec := verbSpecs[verb]
	for _, k := range slices.Sorted(maps.Keys(form)) {
		if k == argVerb {
			continue
		}
		if k != spec.exclusive && !slices.Contains(spec.required, k) && !slices.Contains(spec.optional, k) {
			return errorf(codeBadArgument, "Argument %s is not allowed with verb %s.", quote(k), verb)
		}
		if len(form[k]) > 1 {
			return errorf(codeBadArgument, "Argument %s is repeated.", k)
		}
		if form[k][0] == "" {
			return errorf(codeBadArgument, "Argument %s is empty.", k)
		}
	}
	if spec.exclusive != "" && form.Has(spec.exclusive) {
		if len(form) > 2 {
			return errorf(codeBadArgument, "Argument %s is exclusive: send it with the verb only.", spec.exclusive)
		}
		return nil
	}
	for _, k := range spec.required {
		if !form.Has(k) {
			return errorf(codeBadArgument, "Verb %s needs the argument %s.", verb, k)
		}
	}
	return nil
}

// The syntax of metadataPrefix and setSpec (OAI-PMH.xsd).
var (
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+$`)
	setPattern    = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$`)
)

// checkPrefix returns badArgument for a metadataPrefix that breaks the
// protocol's syntax and cannotDisseminateFormat for one not served here.
func checkPrefix(prefix string) error {
	if !prefixPattern.MatchString(prefix) {
		return errorf(codeBadArgument, "Argument metadataPrefix %s is not a metadata prefix.", quote(prefix))
	}
	if prefix != prefixOAIDC && prefix != prefixKhan {
		return errorf(codeCannotDisseminateFormat, "Metadata format %s is not served here; use oai_dc or khantara.", quote(prefix))
	}
	return nil
}

// identifierScheme starts every item identifier:
// oai:khantara:<publisher ID>:<slot>, the publisher ID a plain
// publisher's peer ID or an organisation's ID, the slot a practice ID or
// an experience record's slot (_exp/<id>, _endorse/<publisher>/<id>).
const identifierScheme = "oai:khantara:"

func identifierOf(pub peer.ID, slot string) string {
	return identifierScheme + pub.String() + ":" + slot
}

var practiceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,63}$`)

// parseIdentifier reads an item identifier; ok is false for anything that
// is not the canonical form of one.
func parseIdentifier(s string) (pub peer.ID, slot string, ok bool) {
	rest, ok := strings.CutPrefix(s, identifierScheme)
	if !ok {
		return "", "", false
	}
	ps, slot, ok := strings.Cut(rest, ":")
	if !ok || !itemSlot(slot) {
		return "", "", false
	}
	pub, err := protocol.DecodeID(ps)
	if err != nil || pub.String() != ps {
		return "", "", false
	}
	return pub, slot, true
}

// itemSlot reports whether slot is the slot of an item: a practice ID, or
// an experience record's slot in its canonical form.
func itemSlot(slot string) bool {
	if id, ok := strings.CutPrefix(slot, protocol.ExperienceSlotPrefix); ok {
		return practiceIDPattern.MatchString(id)
	}
	if strings.HasPrefix(slot, protocol.EndorsementSlotPrefix) {
		_, _, ok := protocol.ParseEndorsementSlot(slot)
		return ok
	}
	return practiceIDPattern.MatchString(slot)
}

// The sets (doc.go): setAll holds every practice item, setAll:<peer ID>
// one publisher's; setExperiences every experience item,
// setExperiences:<type> those of one type.
const (
	setAll         = "publisher"
	setExperiences = "experiences"
)

func setOf(pub peer.ID) string { return setAll + ":" + pub.String() }

func typeSet(t protocol.ExperienceType) string { return setExperiences + ":" + string(t) }

// selection is what a list selects: practice items (of one publisher, or
// all), or experience items (of one type, or all).
type selection struct {
	experiences bool
	pub         peer.ID                 // practices: "" for every publisher
	typ         protocol.ExperienceType // experiences: "" for every type
}

// parseSet returns the selection of a set ("" selects every practice
// item); ok is false for a set this repository does not have.
func parseSet(set string) (sel selection, ok bool) {
	switch {
	case set == "" || set == setAll:
		return sel, true
	case set == setExperiences:
		return selection{experiences: true}, true
	}
	if t, found := strings.CutPrefix(set, setExperiences+":"); found {
		if !slices.Contains(protocol.ExperienceTypes, t) {
			return sel, false
		}
		return selection{experiences: true, typ: protocol.ExperienceType(t)}, true
	}
	ps, found := strings.CutPrefix(set, setAll+":")
	if !found {
		return sel, false
	}
	pub, err := protocol.DecodeID(ps)
	if err != nil || pub.String() != ps {
		return sel, false
	}
	return selection{pub: pub}, true
}

// window selects datestamps for from and until; a zero bound is open.
type window struct {
	from  time.Time // inclusive
	until time.Time // exclusive
}

func (w window) open() bool { return w.from.IsZero() && w.until.IsZero() }

func (w window) contains(datestamp time.Time) bool {
	return (w.from.IsZero() || !datestamp.Before(w.from)) && (w.until.IsZero() || datestamp.Before(w.until))
}

// parseWindow reads the from and until arguments ("" when absent), in
// either granularity, the same for both; until is inclusive to its
// granularity (a day's until takes the whole day).
func parseWindow(from, until string) (window, error) {
	var w window
	f, fday, err := parseUTC(argFrom, from)
	if err != nil {
		return w, err
	}
	u, uday, err := parseUTC(argUntil, until)
	if err != nil {
		return w, err
	}
	if from != "" && until != "" {
		if fday != uday {
			return w, errorf(codeBadArgument, "Arguments from and until have different granularities.")
		}
		if f.After(u) {
			return w, errorf(codeBadArgument, "Argument from is later than until.")
		}
	}
	w.from = f
	switch {
	case until == "":
	case uday:
		w.until = u.AddDate(0, 0, 1)
	default:
		w.until = u.Add(time.Second)
	}
	return w, nil
}

// parseUTC reads YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ; "" is the zero time.
func parseUTC(name, s string) (t time.Time, day bool, err error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	layout := timeLayout
	if len(s) == len(dayLayout) {
		layout, day = dayLayout, true
	}
	t, perr := time.Parse(layout, s)
	if perr != nil || t.Format(layout) != s {
		return time.Time{}, false, errorf(codeBadArgument, "Argument %s %s is not a date: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.", name, quote(s))
	}
	return t, day, nil
}

// datestamp is an item's datestamp: when this node last changed it.
func datestamp(receivedAt time.Time) time.Time { return receivedAt.UTC().Truncate(time.Second) }
