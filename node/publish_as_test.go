package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A network's node publishes for a member that delegated the node's key:
// the member's practices carry the member's ID and sequence, the
// network's own sequence is untouched, a third node keeps both, and an
// organisation that delegated nothing to the node (or not the kind)
// gets nothing from it.
func TestPublishAsMember(t *testing.T) {
	tn := newTestNet(t, 131)
	net, other := tn.add(), tn.add()
	tn.connect(net, other)
	tn.waitTopics()
	network := newTestOrg(t, "Network", []uint64{9701}, delegation(net.ID(), allKinds...))
	member := newTestOrg(t, "Member City", []uint64{9702}, delegation(net.ID(), protocol.KindPractice, protocol.KindRetract))
	stranger := newTestOrg(t, "Stranger", []uint64{9703}, delegation(other.ID(), allKinds...))
	for _, o := range []*testOrg{network, member, stranger} {
		submit(t, net, o.gen)
	}
	if err := net.SetOrg(network.id); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sheets := demoSheets(t)
	own := publish(t, net, variant(sheets, 1))
	m1, err := net.PublishAs(ctx, member.id, practiceAnn(variant(sheets, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := net.PublishAs(ctx, member.id, practiceAnn(variant(sheets, 3)))
	if err != nil {
		t.Fatal(err)
	}
	own2 := publish(t, net, variant(sheets, 4))
	for _, c := range []struct {
		sg  *protocol.Signed
		pub peer.ID
		seq uint64
	}{{own, network.id, 2}, {m1, member.id, 2}, {m2, member.id, 3}, {own2, network.id, 3}} {
		a := c.sg.Announcement()
		if a.Publisher != c.pub || a.Seq != c.seq || c.sg.Signer() != net.ID() {
			t.Errorf("%s: publisher %s seq %d signer %s; want %s seq %d signer %s",
				a.Practice.ID, a.Publisher, a.Seq, c.sg.Signer(), c.pub, c.seq, net.ID())
		}
	}
	tn.eventually(10*time.Second, "the member's and the network's practices at the other node", allHold([]*Node{other}, own, m1, m2, own2))

	// A list for the network (its own organisation, through PublishAs).
	list, err := net.PublishAs(ctx, network.id, &protocol.Announcement{Kind: protocol.KindMembers,
		Members: &protocol.MemberList{List: "members", Title: "Members", Members: []protocol.Member{{ID: member.id, Name: "Member City"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if list.Announcement().Seq != 4 {
		t.Errorf("the network's list has seq %d, want 4", list.Announcement().Seq)
	}
	tn.eventually(10*time.Second, "the list at the other node", allHold([]*Node{other}, list))

	// Not delegated: the member never delegated profiles, the stranger
	// nothing at all to this node.
	prof := &protocol.Profile{Name: "Member City", Country: "IT", Level: "local"}
	if _, err := net.PublishAs(ctx, member.id, &protocol.Announcement{Kind: protocol.KindProfile, Profile: prof}); !errors.Is(err, ErrNotDelegated) {
		t.Errorf("a profile for the member: %v, want ErrNotDelegated", err)
	}
	if _, err := net.PublishAs(ctx, stranger.id, practiceAnn(variant(sheets, 5))); !errors.Is(err, ErrNotDelegated) {
		t.Errorf("a practice for a stranger: %v, want ErrNotDelegated", err)
	}
	if _, err := net.PublishAs(ctx, net.ID(), practiceAnn(variant(sheets, 6))); err == nil {
		t.Error("PublishAs a key ID succeeded")
	}
	if _, err := net.PublishAs(ctx, member.id, &protocol.Announcement{Kind: protocol.KindOrg}); err == nil {
		t.Error("PublishAs an organisation operation succeeded")
	}
}
