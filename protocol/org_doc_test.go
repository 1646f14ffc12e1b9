package protocol

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/record"
)

// orgExample is the worked example of PROTOCOL.md 12.12: rotation keys
// with seeds 0x21 and 0x22 repeated, a delegate with seed 0x23; a genesis,
// a practice the delegate publishes, and the delegate's revocation.
func orgExample(t testing.TB) (genesis, practice, revoke *Signed) {
	t.Helper()
	r0, r1, d := testKey(t, 0x21), testKey(t, 0x22), testKey(t, 0x23)
	g, err := NewGenesis("Ville de Roubaix", []crypto.PubKey{r0.GetPublic(), r1.GetPublic()},
		time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Delegation{Key: idOf(t, d), May: []Kind{KindPractice, KindRetract, KindProfile}})
	if err != nil {
		t.Fatal(err)
	}
	genesis = mustSeal(t, g, r0)
	org := genesis.Announcement().Publisher
	p := exampleAnnouncement(t).Announcement()
	pa := &Announcement{V: Version, Publisher: org, Seq: 2, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Kind: KindPractice, Auth: genesis.Hash(), Practice: p.Practice}
	practice = mustSeal(t, pa, d)
	rv, err := Revoke(genesis, 3, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), idOf(t, d),
		time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), 2)
	if err != nil {
		t.Fatal(err)
	}
	return genesis, practice, mustSeal(t, rv, r0)
}

// TestProtocolDocOrgExample fails when PROTOCOL.md 12.12 and the code
// disagree. Regenerate the blocks with KHANTARA_UPDATE_DOC=1.
func TestProtocolDocOrgExample(t *testing.T) {
	g, p, r := orgExample(t)
	blocks := map[string]string{
		"org-rotation-keys": idOf(t, testKey(t, 0x21)).String() + "\n" + idOf(t, testKey(t, 0x22)).String(),
		"org-delegate":      idOf(t, testKey(t, 0x23)).String(),
		"org-id":            g.Announcement().Publisher.String(),
		"org-id-hex":        wrapHex([]byte(g.Announcement().Publisher)),
	}
	for name, s := range map[string]*Signed{"org-genesis": g, "org-practice": p, "org-revoke": r} {
		env, err := record.UnmarshalEnvelope(s.Envelope())
		if err != nil {
			t.Fatal(err)
		}
		blocks[name+"-payload"] = string(env.RawPayload)
		blocks[name+"-envelope"] = wrapHex(s.Envelope())
		blocks[name+"-hash"] = s.Hash().String()
	}
	checkDocBlocks(t, blocks)

	// The documented records open and the chain judges them as the text
	// says: the practice is valid before and after the revocation.
	var opened []*Signed
	for _, s := range []*Signed{g, p, r} {
		o, err := Open(s.Envelope())
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, o)
	}
	org := opened[0].Announcement().Publisher
	for _, ops := range [][]*Signed{{opened[0]}, {opened[0], opened[2]}} {
		c := NewChain(org, ops)
		if err := c.Authorise(opened[1].Announcement(), opened[1].Signer()); err != nil {
			t.Fatalf("the example practice is not authorised by %d ops: %v", len(ops), err)
		}
	}
	c := NewChain(org, []*Signed{opened[0], opened[2]})
	if c.Head().Hash() != r.Hash() || c.Status(p.Signer()).Role != KeyRevoked {
		t.Fatal("the revocation is not the head")
	}
	late := *opened[1].Announcement()
	late.Seq = 4
	if err := c.Authorise(&late, p.Signer()); err == nil {
		t.Fatal("a practice above through is authorised after the revocation")
	}
}

// checkDocBlocks compares the fenced blocks of PROTOCOL.md marked
// <!-- name --> with want, or rewrites them when KHANTARA_UPDATE_DOC is set.
func checkDocBlocks(t *testing.T, blocks map[string]string) {
	t.Helper()
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	update := os.Getenv("KHANTARA_UPDATE_DOC") != ""
	for name, want := range blocks {
		re := regexp.MustCompile("(?s)(<!-- " + name + " -->\n```[a-z]*\n)(.*?)(\n```)")
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("PROTOCOL.md has no block <!-- %s -->", name)
			continue
		}
		if m[2] != want {
			if update {
				text = re.ReplaceAllLiteralString(text, m[1]+want+m[3])
				continue
			}
			t.Errorf("PROTOCOL.md block %s differs from the code; run KHANTARA_UPDATE_DOC=1 go test ./protocol -run DocOrgExample\nwant:\n%s", name, want)
		}
	}
	if update {
		if err := os.WriteFile("../PROTOCOL.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
