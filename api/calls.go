package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/khantara/khantara/search"
)

// The Client's calls, one per route (see NewHandler for the routes).

// longTimeout bounds a reindex or a purge, which read the whole store.
const longTimeout = time.Hour

// Status fetches the node's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	return st, c.do(ctx, http.MethodGet, "/status", nil, nil, "", false, &st)
}

// Peers fetches the connected peers.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var ps []Peer
	return ps, c.do(ctx, http.MethodGet, "/peers", nil, nil, "", false, &ps)
}

// ListQuery selects practices for Practices. The zero value lists every
// current practice.
type ListQuery struct {
	// Publisher keeps one publisher's practices (a peer ID).
	Publisher string
	// Mine keeps the daemon's own practices.
	Mine bool
	// ID keeps every publisher's practice with this ID.
	ID string
	// Retracted includes retracted slots.
	Retracted bool
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	if q.Publisher != "" {
		v.Set("publisher", q.Publisher)
	}
	if q.Mine {
		v.Set("mine", "1")
	}
	if q.ID != "" {
		v.Set("id", q.ID)
	}
	if q.Retracted {
		v.Set("retracted", "1")
	}
	return v
}

// Practices fetches every page of a listing, following Next.
func (c *Client) Practices(ctx context.Context, q ListQuery) ([]Practice, error) {
	all := []Practice{}
	v := q.values()
	seen := map[string]bool{}
	for range maxPages {
		var page PracticeList
		if err := c.do(ctx, http.MethodGet, "/practices", v, nil, "", false, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Practices...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("the daemon's listing repeats the cursor %q; stopped after %d practices", page.Next, len(all))
		}
		seen[page.Next] = true
		v.Set("after", page.Next)
	}
	return nil, fmt.Errorf("the daemon's listing did not end after %d pages", maxPages)
}

// Record fetches one slot with its content and provenance.
func (c *Client) Record(ctx context.Context, publisher, id string) (Record, error) {
	var rec Record
	return rec, c.do(ctx, http.MethodGet, "/practices/"+url.PathEscape(publisher)+"/"+url.PathEscape(id), nil, nil, "", false, &rec)
}

// Publish sends a fact-sheet file (YAML or JSON) to be signed and
// published; with dryRun the daemon only checks it.
func (c *Client) Publish(ctx context.Context, sheet []byte, dryRun bool) (Published, error) {
	var v url.Values
	if dryRun {
		v = url.Values{"dry_run": {"1"}}
	}
	var p Published
	return p, c.do(ctx, http.MethodPost, "/practices", v, sheet, "application/yaml", true, &p)
}

// Retract withdraws an own practice.
func (c *Client) Retract(ctx context.Context, id, reason string) (Published, error) {
	return c.retractPath(ctx, "/practices/"+url.PathEscape(id)+"/retract", reason)
}

// PutProfile publishes the node's organisation profile (YAML or JSON).
func (c *Client) PutProfile(ctx context.Context, profile []byte) (Published, error) {
	var p Published
	return p, c.do(ctx, http.MethodPut, "/profile", nil, profile, "application/yaml", true, &p)
}

// Profile fetches the profile of publisher, or the node's own when empty.
func (c *Client) Profile(ctx context.Context, publisher string) (Profile, error) {
	var v url.Values
	if publisher != "" {
		v = url.Values{"publisher": {publisher}}
	}
	var p Profile
	return p, c.do(ctx, http.MethodGet, "/profile", v, nil, "", false, &p)
}

// Search runs one search.
func (c *Client) Search(ctx context.Context, q search.Query) (search.Result, error) {
	var r search.Result
	return r, c.do(ctx, http.MethodGet, "/search", q.Values(), nil, "", false, &r)
}

// Stats fetches the statistics of q's practices by one key.
func (c *Client) Stats(ctx context.Context, q search.Query, by string) (search.Stats, error) {
	v := q.Values()
	v.Set("by", by)
	var st search.Stats
	return st, c.do(ctx, http.MethodGet, "/stats", v, nil, "", false, &st)
}

// Export streams q's practices in format (csv, jsonl or dcat), or the
// adaptation graph of q's practices (adaptations-csv, graphml), to w and
// returns the bytes written. Only ctx bounds it.
func (c *Client) Export(ctx context.Context, q search.Query, format string, w io.Writer) (int64, error) {
	return c.ExportKind(ctx, q, format, "", w)
}

// ExportKind is Export with the kind of records a jsonl export holds:
// practice, experience or all ("" leaves the server's default,
// practice).
func (c *Client) ExportKind(ctx context.Context, q search.Query, format, kind string, w io.Writer) (int64, error) {
	v := q.Values()
	v.Set("format", format)
	if kind != "" {
		v.Set("kind", kind)
	}
	return c.stream(ctx, "/export", v, w)
}

// Reindex rebuilds the daemon's search index from its store (bounded by
// an hour).
func (c *Client) Reindex(ctx context.Context) (Reindexed, error) {
	var r Reindexed
	return r, c.long().do(ctx, http.MethodPost, "/reindex", nil, nil, "", true, &r)
}

// Purge erases superseded, retracted and removed content from the
// daemon's disk, after removing one publisher's records if one is named
// (bounded by an hour).
func (c *Client) Purge(ctx context.Context, publisher string) (Purged, error) {
	var r Purged
	var q url.Values
	if publisher != "" {
		q = url.Values{"publisher": {publisher}}
	}
	return r, c.long().do(ctx, http.MethodPost, "/purge", q, nil, "", true, &r)
}

// long is c bounded by longTimeout.
func (c *Client) long() *Client { return c.WithTimeout(longTimeout) }

// Orgs fetches the organisations the daemon holds.
func (c *Client) Orgs(ctx context.Context) ([]OrgSummary, error) {
	var out []OrgSummary
	return out, c.do(ctx, http.MethodGet, "/orgs", nil, nil, "", false, &out)
}

// Org fetches one organisation (an organisation ID).
func (c *Client) Org(ctx context.Context, org string) (Organisation, error) {
	var o Organisation
	return o, c.do(ctx, http.MethodGet, "/orgs/"+url.PathEscape(org), nil, nil, "", false, &o)
}

// SetOrg makes the daemon publish for org from now on ("": as itself).
func (c *Client) SetOrg(ctx context.Context, org string) error {
	body, err := json.Marshal(OrgSetting{Org: org})
	if err != nil {
		return err
	}
	var out OrgSetting
	return c.do(ctx, http.MethodPut, "/org", nil, body, "application/json", true, &out)
}

// Adopt moves the daemon's own plain records into its organisation
// (bounded by an hour: one write per record).
func (c *Client) Adopt(ctx context.Context) (Adopted, error) {
	var out Adopted
	return out, c.long().do(ctx, http.MethodPost, "/org/adopt", nil, nil, "", true, &out)
}

// Submit sends one envelope signed elsewhere (an organisation's
// operation, a membership list) to be checked, stored and published.
func (c *Client) Submit(ctx context.Context, envelope []byte) (Published, error) {
	var p Published
	return p, c.do(ctx, http.MethodPost, "/records", nil, envelope, "application/octet-stream", true, &p)
}

// PublishMembers publishes a membership list signed by the daemon's key
// (list, title and members of l are sent).
func (c *Client) PublishMembers(ctx context.Context, l MemberList) (Published, error) {
	body, err := json.Marshal(MemberList{List: l.List, Title: l.Title, Members: l.Members})
	if err != nil {
		return Published{}, err
	}
	var p Published
	return p, c.do(ctx, http.MethodPost, "/members", nil, body, "application/json", true, &p)
}

// Trust fetches the daemon's trust policy.
func (c *Client) Trust(ctx context.Context) (Trust, error) {
	var t Trust
	return t, c.do(ctx, http.MethodGet, "/trust", nil, nil, "", false, &t)
}

// SetTrust applies a new trust policy (mode, allow, deny, follow of t) at
// once and returns it as the daemon now holds it.
func (c *Client) SetTrust(ctx context.Context, t Trust) (Trust, error) {
	body, err := json.Marshal(Trust{Mode: t.Mode, Allow: nonNil(t.Allow), Deny: nonNil(t.Deny), Follow: nonNil(t.Follow)})
	if err != nil {
		return Trust{}, err
	}
	var out Trust
	return out, c.do(ctx, http.MethodPut, "/trust", nil, body, "application/json", true, &out)
}
