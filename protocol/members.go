package protocol

import (
	"fmt"
	"regexp"

	"github.com/libp2p/go-libp2p/core/peer"
)

// listPattern is the rule of a membership list's name.
var listPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// MemberList is a membership list (kind members): a signed, versioned
// list of publishers, published by an organisation. Its slot is
// MembersSlotPrefix + List, so a new version supersedes the previous one.
type MemberList struct {
	// List names the list among the publisher's lists: 1-64 characters of
	// a-z, 0-9 and '-', starting with a letter or digit.
	List string `json:"list"`
	// Title is the list's title.
	Title string `json:"title"`
	// Members are the publishers on the list, at most MaxMembers.
	Members []Member `json:"members"`
}

// Member is one publisher on a membership list.
type Member struct {
	// ID is the member's publisher ID: an organisation or a key.
	ID peer.ID `json:"id"`
	// Name is the member's name as the list gives it (optional).
	Name string `json:"name,omitempty"`
}

// Validate checks a membership list; see FactSheet.Validate.
func (m *MemberList) Validate() error {
	var p problems
	m.validate(&p, "")
	return p.err()
}

func (m *MemberList) validate(p *problems, prefix string) {
	if !listPattern.MatchString(m.List) {
		p.add(prefix+"list", "%q: use 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit", truncate(m.List, 80))
	}
	checkLine(p, prefix+"title", m.Title, MaxTitleLen, true)
	if len(m.Members) > MaxMembers {
		p.add(prefix+"members", "at most %d members, got %d", MaxMembers, len(m.Members))
	}
	seen := make(map[peer.ID]int, len(m.Members))
	for i, mem := range m.Members {
		path := fmt.Sprintf("%smembers[%d]", prefix, i)
		if !IsOrg(mem.ID) && !IsKey(mem.ID) {
			p.add(path+".id", "is neither an organisation ID nor the peer ID of an Ed25519 key")
		} else if j, dup := seen[mem.ID]; dup {
			p.add(path+".id", "%s already appears at members[%d]", mem.ID, j)
		} else {
			seen[mem.ID] = i
		}
		checkLine(p, path+".name", mem.Name, MaxNameLen, false)
	}
}
