package oai

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestErrors(t *testing.T) {
	f := newFixture(t, Config{PageSize: 10})
	pub := f.pubs[0].String()
	live := identifierOf(f.pubs[0], demoSheets(t)[2].ID)
	first := f.query("verb", "ListRecords", "metadataPrefix", "oai_dc").ListRecords.Token.Value
	idsToken := f.query("verb", "ListIdentifiers", "metadataPrefix", "oai_dc").ListIdentifiers.Token.Value
	raw, _ := base64.RawURLEncoding.DecodeString(first)
	fields := strings.SplitN(string(raw), "|", 9)
	forge := func(i int, v string) string {
		g := slices.Clone(fields)
		g[i] = v
		return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(g, "|")))
	}
	unknownPeer := must(peer.IDFromPrivateKey(testKey(t, 9)))(t)
	tests := []struct {
		name, query, code string
	}{
		{"no verb", "", "badVerb"},
		{"no verb but arguments", "metadataPrefix=oai_dc", "badVerb"},
		{"unknown verb", "verb=Harvest", "badVerb"},
		{"lower-case verb", "verb=identify", "badVerb"},
		{"repeated verb", "verb=Identify&verb=Identify", "badVerb"},
		{"empty verb", "verb=", "badVerb"},

		{"extra argument", "verb=Identify&metadataPrefix=oai_dc", "badArgument"},
		{"unknown argument", "verb=ListSets&foo=bar", "badArgument"},
		{"set with ListSets", "verb=ListSets&set=publisher", "badArgument"},
		{"missing metadataPrefix", "verb=ListRecords", "badArgument"},
		{"missing metadataPrefix with from", "verb=ListIdentifiers&from=2026-01-01", "badArgument"},
		{"missing identifier", "verb=GetRecord&metadataPrefix=oai_dc", "badArgument"},
		{"repeated argument", "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"},
		{"empty argument", "verb=GetRecord&identifier=&metadataPrefix=oai_dc", "badArgument"},
		{"token with another argument", "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=" + first, "badArgument"},
		{"bad date", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01", "badArgument"},
		{"date without Z", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-03-01T10:00:00", "badArgument"},
		{"date with offset", "verb=ListRecords&metadataPrefix=oai_dc&until=2026-03-01T10:00:00%2B01:00", "badArgument"},
		{"date with fraction", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-03-01T10:00:00.5Z", "badArgument"},
		{"short date", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-3-1", "badArgument"},
		{"year only", "verb=ListRecords&metadataPrefix=oai_dc&from=2026", "badArgument"},
		{"from after until", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-03-02&until=2026-03-01", "badArgument"},
		{"mixed granularity", "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-03-01&until=2026-03-02T00:00:00Z", "badArgument"},
		{"illegal metadataPrefix", "verb=ListRecords&metadataPrefix=oai%20dc", "badArgument"},
		{"illegal set", "verb=ListRecords&metadataPrefix=oai_dc&set=publisher::x", "badArgument"},
		{"bad URL encoding", "verb=Identify&x=%zz", "badArgument"},

		{"unknown format in ListRecords", "verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"},
		{"unknown format in ListIdentifiers", "verb=ListIdentifiers&metadataPrefix=oai_DC", "cannotDisseminateFormat"},
		{"unknown format in GetRecord", "verb=GetRecord&metadataPrefix=mods&identifier=" + live, "cannotDisseminateFormat"},

		{"unknown practice", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:khantara:" + pub + ":no-such-practice", "idDoesNotExist"},
		{"profile slot", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:khantara:" + pub + ":_profile", "idDoesNotExist"},
		{"other scheme", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:" + pub + ":x", "idDoesNotExist"},
		{"bad peer ID", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:khantara:nopeer:abc", "idDoesNotExist"},
		{"no practice part", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:khantara:" + pub, "idDoesNotExist"},
		{"unknown in ListMetadataFormats", "verb=ListMetadataFormats&identifier=urn:isbn:123", "idDoesNotExist"},

		{"nothing that late", "verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01T00:00:00Z", "noRecordsMatch"},
		{"unknown set", "verb=ListRecords&metadataPrefix=oai_dc&set=country:IT", "noRecordsMatch"},
		{"set of an unknown publisher", "verb=ListIdentifiers&metadataPrefix=oai_dc&set=publisher:" + unknownPeer.String(), "noRecordsMatch"},
		{"set of a non-peer", "verb=ListIdentifiers&metadataPrefix=oai_dc&set=publisher:xyz", "noRecordsMatch"},

		{"garbage token", "verb=ListRecords&resumptionToken=%21%21%21", "badResumptionToken"},
		{"base64 garbage token", "verb=ListRecords&resumptionToken=" + base64.RawURLEncoding.EncodeToString([]byte("hello|world")), "badResumptionToken"},
		{"token of the other verb", "verb=ListRecords&resumptionToken=" + idsToken, "badResumptionToken"},
		{"token with a bad cursor", "verb=ListRecords&resumptionToken=" + forge(6, "x"), "badResumptionToken"},
		{"token with a bad date", "verb=ListRecords&resumptionToken=" + forge(3, "yesterday"), "badResumptionToken"},
		{"token with an unknown format", "verb=ListRecords&resumptionToken=" + forge(2, "marc21"), "badResumptionToken"},
		{"token of another version", "verb=ListRecords&resumptionToken=" + forge(0, "2"), "badResumptionToken"},
		{"token with padding", "verb=ListRecords&resumptionToken=" + first + "%3D", "badResumptionToken"},
		{"token for ListSets", "verb=ListSets&resumptionToken=" + first, "badResumptionToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			for _, r := range []*tResponse{f.get(tt.query), f.postRaw(tt.query)} {
				if len(r.Errors) != 1 || r.Errors[0].Code != tt.code {
					t.Fatalf("%q: got %+v, want %s", tt.query, r.Errors, tt.code)
				}
				if strings.TrimSpace(r.Errors[0].Message) == "" {
					t.Errorf("%s without a message", tt.code)
				}
				echoed := len(r.Request.Attrs) > 0
				if want := tt.code != "badVerb" && tt.code != "badArgument"; echoed != want {
					t.Errorf("%s: request attributes %v, want echoed=%v", tt.code, r.Request.Attrs, want)
				}
			}
		})
	}
}
