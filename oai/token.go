package oai

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// listQuery is a ListIdentifiers or ListRecords request, resumed or not.
// A resumption token carries all of it (doc.go gives the format).
type listQuery struct {
	records     bool   // ListRecords, not ListIdentifiers
	prefix      string // metadataPrefix
	from, until string // as the harvester gave them; "" when absent
	set         string
	cursor      int    // items returned before this page
	total       int    // completeListSize; 0 when unknown
	after       string // store.Cursor of the item to resume after
}

const tokenVersion = "1"

func (q listQuery) token() string {
	verb := "I"
	if q.records {
		verb = "R"
	}
	s := strings.Join([]string{tokenVersion, verb, q.prefix, q.from, q.until, q.set,
		strconv.Itoa(q.cursor), strconv.Itoa(q.total), q.after}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// parseToken reads a token issued for the verb (records: ListRecords).
// Every field is checked as if the harvester had sent it as an argument,
// so a forged token selects nothing it could not have asked for.
func parseToken(tok string, records bool) (listQuery, error) {
	bad := errorf(codeBadResumptionToken, "The resumption token is not one this repository issued for this verb.")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return listQuery{}, bad
	}
	// The store cursor comes last: it is binary and may hold a '|'.
	f := strings.SplitN(string(raw), "|", 9)
	if len(f) != 9 || f[0] != tokenVersion {
		return listQuery{}, bad
	}
	q := listQuery{records: f[1] == "R", prefix: f[2], from: f[3], until: f[4], set: f[5], after: f[8]}
	var err1, err2 error
	q.cursor, err1 = strconv.Atoi(f[6])
	q.total, err2 = strconv.Atoi(f[7])
	switch {
	case f[1] != "I" && f[1] != "R", q.records != records,
		err1 != nil, err2 != nil, q.cursor <= 0, q.total < 0, q.after == "",
		checkPrefix(q.prefix) != nil,
		q.set != "" && !setPattern.MatchString(q.set):
		return listQuery{}, bad
	}
	if _, err := parseWindow(q.from, q.until); err != nil {
		return listQuery{}, bad
	}
	return q, nil
}
