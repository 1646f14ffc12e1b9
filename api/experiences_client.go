package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The Client's calls of the experience routes.

// ExperienceQuery selects experience records for Experiences. The zero
// value lists every live experience record held.
type ExperienceQuery struct {
	// Publisher and ID, together, keep the records about that practice.
	Publisher, ID string
	// Author keeps one author's records (a publisher ID).
	Author string
	// Type keeps one type (protocol.ExperienceTypes).
	Type string
	// Mine keeps the daemon's own records.
	Mine bool
}

func (q ExperienceQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"publisher": q.Publisher, "id": q.ID, "author": q.Author, "type": q.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Mine {
		v.Set("mine", "1")
	}
	return v
}

// Experiences fetches every page of a listing of experience records,
// following Next.
func (c *Client) Experiences(ctx context.Context, q ExperienceQuery) ([]Experience, error) {
	all := []Experience{}
	v := q.values()
	seen := map[string]bool{}
	for range maxPages {
		var page ExperienceList
		if err := c.do(ctx, http.MethodGet, "/experiences", v, nil, "", false, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Experiences...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("the daemon's listing repeats the cursor %q; stopped after %d records", page.Next, len(all))
		}
		seen[page.Next] = true
		v.Set("after", page.Next)
	}
	return nil, fmt.Errorf("the daemon's listing did not end after %d pages", maxPages)
}

// PracticeExperiences fetches the experience records about the practice
// (publisher, id), with its state, counts and where it was adapted.
func (c *Client) PracticeExperiences(ctx context.Context, publisher, id string) (PracticeExperiences, error) {
	var pe PracticeExperiences
	return pe, c.do(ctx, http.MethodGet, "/practices/"+url.PathEscape(publisher)+"/"+url.PathEscape(id)+"/experiences", nil, nil, "", false, &pe)
}

// PublishExperience sends an experience file (YAML or JSON) to be signed
// and published; with dryRun the daemon only checks it.
func (c *Client) PublishExperience(ctx context.Context, file []byte, dryRun bool) (Published, error) {
	var v url.Values
	if dryRun {
		v = url.Values{"dry_run": {"1"}}
	}
	var p Published
	return p, c.do(ctx, http.MethodPost, "/experiences", v, file, "application/yaml", true, &p)
}

// RetractExperience withdraws the daemon's own adaptation, lesson,
// question or answer with this experience ID.
func (c *Client) RetractExperience(ctx context.Context, id, reason string) (Published, error) {
	return c.retractPath(ctx, "/experiences/"+url.PathEscape(id)+"/retract", reason)
}

// RetractEndorsement withdraws the daemon's own endorsement of the
// practice (publisher, id).
func (c *Client) RetractEndorsement(ctx context.Context, publisher, id, reason string) (Published, error) {
	return c.retractPath(ctx, "/endorsements/"+url.PathEscape(publisher)+"/"+url.PathEscape(id)+"/retract", reason)
}

// retractPath posts a retraction with an optional reason to path.
func (c *Client) retractPath(ctx context.Context, path, reason string) (Published, error) {
	body, err := json.Marshal(struct {
		Reason string `json:"reason,omitempty"`
	}{reason})
	if err != nil {
		return Published{}, err
	}
	var p Published
	return p, c.do(ctx, http.MethodPost, path, nil, body, "application/json", true, &p)
}
