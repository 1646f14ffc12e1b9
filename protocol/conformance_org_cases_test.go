package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The cases behind testdata/conformance/org.json (PROTOCOL.md 12.1-12.3,
// 12.7): an organisation's records, each opened alone (3.1, with step 8
// of 12.3). Whether the chain authorises them needs state: chain.json.
// Payloads are written as text, member by member, so that each case
// breaks one rule.

// The keys of organisation vectors (PROTOCOL.md 12.12): rotation keys
// 0x21.. and 0x22.., delegate 0x23.. (each byte repeated 32 times).
const (
	seedR0       = 0x21
	seedR1       = 0x22
	seedDelegate = 0x23

	vecR0 = "12D3KooWJzQR9RTTdTAzupZmmqZcQkTqLVmpQQcknBe5aV9E9bWa"
	vecR1 = "12D3KooWLdJAwPtyQ5RFnr9wGXsQzpf3P2SeqFbYkqbfVehLu4Ns"
	vecD  = "12D3KooWHgy7d4jKyVXxP1qUpxt2gVUu9o669u8tgRU336B86Y3a"
)

// q quotes s as a JSON string (s needs no escaping).
func q(s string) string { return `"` + s + `"` }

// vecDelegation delegates every delegable kind to the delegate.
const vecDelegation = `{"key":"` + vecD + `","may":["practice","retract","profile","members"]}`

// orgBody writes an operation: the genesis's key state with over
// applied ("prev" is absent unless over sets it, and then comes first).
func orgBody(over ...string) string {
	return object([]string{"prev", "-", "name", `"Ville de Roubaix"`, "keys", `["` + vecR0 + `","` + vecR1 + `"]`,
		"delegates", `[` + vecDelegation + `]`}, over...)
}

// genesisOf writes a genesis whose operation is org; over changes the
// top-level members.
func genesisOf(org string, over ...string) string {
	return object([]string{"v", "1", "seq", "1", "time", `"2026-12-01T09:00:00Z"`, "kind", `"org"`, "org", org}, over...)
}

// The genesis of the organisation vectors, its hash and the ID derived
// from it.
var (
	vecGenesis     = genesisOf(orgBody())
	vecGenesisHash = hashHex(vecGenesis)
	vecOrg         = OrgID([]byte(vecGenesis)).String()
)

func hashHex(payload string) string {
	h := sha256.Sum256([]byte(payload))
	return hex.EncodeToString(h[:])
}

// opBody is orgBody following the genesis.
func opBody(over ...string) string {
	return orgBody(append([]string{"prev", q(vecGenesisHash)}, over...)...)
}

// orgOp writes the operation org after the genesis, signed by keys[0]
// (seq 2); over changes the top-level members.
func orgOp(org string, over ...string) string {
	return object([]string{"v", "1", "publisher", q(vecOrg), "seq", "2", "time", `"2026-12-01T10:00:00Z"`,
		"kind", `"org"`, "signer", q(vecR0), "org", org}, over...)
}

// orgRecord writes a record of kind with body, published by the
// organisation, signed by the delegate under the genesis.
func orgRecord(kind, body string, over ...string) string {
	return object([]string{"v", "1", "publisher", q(vecOrg), "seq", "2", "time", `"2026-12-01T10:00:00Z"`,
		"kind", q(kind), "signer", q(vecD), "auth", q(vecGenesisHash), kind, body}, over...)
}

// memberList writes a membership list with over applied.
func memberList(over ...string) string {
	return object([]string{"list", `"eurocities"`, "title", `"Eurocities members"`,
		"members", `[{"id":"` + vecOrg + `","name":"Ville de Roubaix"},{"id":"` + vecPublisher + `"}]`}, over...)
}

// delegations writes n delegations of distinct well-formed key IDs.
func delegations(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = `{"key":"` + fakeKeyID(i+1).String() + `","may":["practice"]}`
	}
	return "[" + strings.Join(s, ",") + "]"
}

// revocations writes n revocations of distinct well-formed key IDs.
func revocations(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = `{"key":"` + fakeKeyID(i+1).String() + `","may":["practice"],"from":"2026-12-01T09:30:00Z","through":0}`
	}
	return "[" + strings.Join(s, ",") + "]"
}

// revocationOf writes a revocation of the delegate with over applied.
func revocationOf(over ...string) string {
	return "[" + object([]string{"key", q(vecD), "may", `["practice"]`, "from", `"2026-12-01T09:30:00Z"`, "through", "2"}, over...) + "]"
}

// sha256PeerID is a well-formed peer ID that is neither a key ID nor an
// organisation ID: a full sha2-256 multihash ("Qm...").
var sha256PeerID = peer.ID("\x12\x20" + strings.Repeat("\x07", 32)).String()

func okBy(seed byte, name, payload string) vcase {
	return vcase{name: name, payload: payload, seed: seed}
}

func badBy(seed byte, name, payload, reason, field string) vcase {
	return vcase{name: name, payload: payload, seed: seed, reason: reason, field: field}
}

// orgCases returns every case of org.json.
func orgCases() []vcase {
	var cs []vcase
	for _, f := range []func() []vcase{genesisCases, opCases, keyStateCases, originCases, listCases} {
		cs = append(cs, f()...)
	}
	return cs
}

func genesisCases() []vcase {
	g := func(over ...string) string { return genesisOf(orgBody(over...)) }
	return []vcase{
		okBy(seedR0, "genesis", vecGenesis),
		okBy(seedR0, "genesis-one-key-no-delegates", g("keys", `["`+vecR0+`"]`, "delegates", "-")),
		okBy(seedR0, "genesis-delegates-empty", g("delegates", `[]`)),
		okBy(seedR0, "genesis-adopts-key", g("adopts", q(vecPublisher))),
		okBy(seedR0, "genesis-members-in-other-order", `{"org":`+orgBody()+`,"kind":"org","time":"2026-12-01T09:00:00Z","seq":1,"v":1}`),
		badBy(seedR0, "genesis-with-publisher", genesisOf(orgBody(), "publisher", q(vecOrg)), "invalid", "publisher"),
		badBy(seedR0, "genesis-with-key-publisher", genesisOf(orgBody(), "publisher", q(vecR0)), "invalid", "publisher"),
		badBy(seedR0, "genesis-seq-2", genesisOf(orgBody(), "seq", "2"), "invalid", "seq"),
		badBy(seedR0, "genesis-with-auth", genesisOf(orgBody(), "auth", q(vecGenesisHash)), "invalid", "auth"),
		badBy(seedR0, "genesis-with-signer", genesisOf(orgBody(), "signer", q(vecR0)), "invalid", "signer"),
		badBy(seedR0, "genesis-with-revoked", g("delegates", "-", "revoked", revocationOf()), "invalid", "org.revoked"),
		badBy(seedR0, "genesis-adopts-org-id", g("adopts", q(vecOrg)), "invalid", "org.adopts"),
		badBy(seedR1, "genesis-signed-by-keys-1", vecGenesis, "publisher_mismatch", ""),
		badBy(seedDelegate, "genesis-signed-by-delegate", vecGenesis, "publisher_mismatch", ""),
	}
}

func opCases() []vcase {
	return []vcase{
		okBy(seedR0, "op", orgOp(opBody())),
		okBy(seedR0, "op-renames", orgOp(opBody("name", `"Ville de Roubaix (Nord)"`))),
		okBy(seedR1, "op-signed-by-keys-1", orgOp(opBody(), "signer", q(vecR1))),
		okBy(seedR0, "op-revokes", orgOp(opBody("delegates", "-", "revoked", revocationOf()))),
		okBy(seedR0, "op-revoked-through-2-53-minus-1", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", "9007199254740991")))),
		okBy(seedR0, "op-revoked-256", orgOp(opBody("revoked", revocations(MaxRevoked)))),
		badBy(seedR0, "op-revoked-257", orgOp(opBody("revoked", revocations(MaxRevoked+1))), "invalid", "org.revoked"),
		badBy(seedR0, "op-without-publisher", orgOp(opBody(), "publisher", "-"), "publisher_mismatch", ""),
		badBy(seedR0, "op-seq-1", orgOp(opBody(), "seq", "1"), "invalid", "seq"),
		badBy(seedR0, "op-with-auth", orgOp(opBody(), "auth", q(vecGenesisHash)), "invalid", "auth"),
		badBy(seedR0, "op-with-adopts", orgOp(opBody("adopts", q(vecPublisher))), "invalid", "org.adopts"),
		badBy(seedR0, "op-signer-absent", orgOp(opBody(), "signer", "-"), "publisher_mismatch", ""),
		badBy(seedR0, "op-signer-not-envelope-key", orgOp(opBody(), "signer", q(vecR1)), "publisher_mismatch", ""),
		badBy(seedR0, "prev-63-digits", orgOp(opBody("prev", q(vecGenesisHash[1:]))), "malformed", ""),
		badBy(seedR0, "prev-65-digits", orgOp(opBody("prev", q(vecGenesisHash+"0"))), "malformed", ""),
		badBy(seedR0, "prev-upper-case", orgOp(opBody("prev", q(strings.ToUpper(vecGenesisHash)))), "malformed", ""),
		badBy(seedR0, "prev-all-zeros", orgOp(opBody("prev", q(strings.Repeat("0", 64)))), "malformed", ""),
		badBy(seedR0, "prev-empty", orgOp(opBody("prev", `""`)), "malformed", ""),
		badBy(seedR0, "revoked-from-absent", orgOp(opBody("delegates", "-", "revoked", revocationOf("from", "-"))), "invalid", "org.revoked[0].from"),
		badBy(seedR0, "revoked-from-date-only", orgOp(opBody("delegates", "-", "revoked", revocationOf("from", `"2026-12-01"`))), "malformed", ""),
		badBy(seedR0, "revoked-from-year-2101", orgOp(opBody("delegates", "-", "revoked", revocationOf("from", `"2101-01-01T00:00:00Z"`))), "invalid", "org.revoked[0].from"),
		badBy(seedR0, "revoked-through-2-53", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", "9007199254740992"))), "invalid", "org.revoked[0].through"),
		badBy(seedR0, "revoked-through-negative", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", "-1"))), "malformed", ""),
		badBy(seedR0, "revoked-through-absent", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", "-"))), "invalid", "org.revoked[0].through"),
		okBy(seedR0, "op-revoked-through-0", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", "0")))),
		badBy(seedR0, "revoked-unknown-member", orgOp(opBody("delegates", "-", "revoked", revocationOf("reason", `"leaked"`))), "malformed", ""),
		badBy(seedR0, "revoked-through-string", orgOp(opBody("delegates", "-", "revoked", revocationOf("through", `"2"`))), "malformed", ""),
		badBy(seedR0, "revoked-may-empty", orgOp(opBody("delegates", "-", "revoked", revocationOf("may", `[]`))), "invalid", "org.revoked[0].may"),
		badBy(seedR0, "key-delegated-and-revoked", orgOp(opBody("revoked", revocationOf())), "invalid", "org.revoked[0].key"),
	}
}

// keyStateCases break the rules of keys, delegates, may and until, in a
// genesis.
func keyStateCases() []vcase {
	g := func(over ...string) string { return genesisOf(orgBody(over...)) }
	del := func(over ...string) string {
		return "[" + object([]string{"key", q(vecD), "may", `["practice"]`}, over...) + "]"
	}
	keys := func(n int) string {
		s := []string{vecR0}
		for i := 1; i < n; i++ {
			s = append(s, fakeKeyID(1000+i).String())
		}
		return `["` + strings.Join(s, `","`) + `"]`
	}
	return []vcase{
		okBy(seedR0, "keys-5", g("keys", keys(MaxRotationKeys))),
		okBy(seedR0, "delegates-100", g("delegates", delegations(MaxDelegates))),
		okBy(seedR0, "until", g("delegates", del("until", `"2027-01-01T00:00:00+01:00"`))),
		okBy(seedR0, "name-300", g("name", q(strings.Repeat("é", MaxNameLen)))),
		badBy(seedR0, "keys-0", g("keys", `[]`), "invalid", "org.keys"),
		badBy(seedR0, "keys-absent", g("keys", "-"), "invalid", "org.keys"),
		badBy(seedR0, "keys-6", g("keys", keys(MaxRotationKeys+1)), "invalid", "org.keys"),
		badBy(seedR0, "key-in-keys-twice", g("keys", `["`+vecR0+`","`+vecR0+`"]`), "invalid", "org.keys[1]"),
		badBy(seedR0, "key-in-keys-and-delegates", g("delegates", `[{"key":"`+vecR1+`","may":["practice"]}]`), "invalid", "org.delegates[0].key"),
		badBy(seedR0, "key-delegated-twice", g("delegates", `[`+vecDelegation+`,`+vecDelegation+`]`), "invalid", "org.delegates[1].key"),
		badBy(seedR0, "key-not-ed25519", g("keys", `["`+vecR0+`","`+sha256PeerID+`"]`), "invalid", "org.keys[1]"),
		badBy(seedR0, "key-org-id", g("keys", `["`+vecR0+`","`+vecOrg+`"]`), "invalid", "org.keys[1]"),
		badBy(seedR0, "key-not-peer-id", g("keys", `["`+vecR0+`","khantara"]`), "malformed", ""),
		badBy(seedR0, "delegates-101", g("delegates", delegations(MaxDelegates+1)), "invalid", "org.delegates"),
		badBy(seedR0, "delegate-key-absent", g("delegates", del("key", "-")), "invalid", "org.delegates[0].key"),
		badBy(seedR0, "may-empty", g("delegates", del("may", `[]`)), "invalid", "org.delegates[0].may"),
		badBy(seedR0, "may-absent", g("delegates", del("may", "-")), "invalid", "org.delegates[0].may"),
		badBy(seedR0, "may-duplicate", g("delegates", del("may", `["practice","retract","practice"]`)), "invalid", "org.delegates[0].may[2]"),
		badBy(seedR0, "may-org", g("delegates", del("may", `["org"]`)), "invalid", "org.delegates[0].may[0]"),
		badBy(seedR0, "may-unknown-kind", g("delegates", del("may", `["event"]`)), "invalid", "org.delegates[0].may[0]"),
		badBy(seedR0, "until-empty", g("delegates", del("until", `""`)), "malformed", ""),
		badBy(seedR0, "until-no-offset", g("delegates", del("until", `"2027-01-01T00:00:00"`)), "malformed", ""),
		badBy(seedR0, "until-lower-case-t", g("delegates", del("until", `"2027-01-01t00:00:00Z"`)), "malformed", ""),
		badBy(seedR0, "until-year-1999", g("delegates", del("until", `"1999-12-31T23:59:59Z"`)), "invalid", "org.delegates[0].until"),
		badBy(seedR0, "name-empty", g("name", `""`), "invalid", "org.name"),
		badBy(seedR0, "name-absent", g("name", "-"), "invalid", "org.name"),
		badBy(seedR0, "name-blank", g("name", `"  "`), "invalid", "org.name"),
		badBy(seedR0, "name-301", g("name", q(strings.Repeat("é", MaxNameLen+1))), "invalid", "org.name"),
		badBy(seedR0, "name-line-feed", g("name", `"Ville de\nRoubaix"`), "invalid", "org.name"),
		badBy(seedR0, "name-control-character", g("name", `"Ville de Roubaix\u0007"`), "invalid", "org.name"),
	}
}

// originCases: who may publish what (12.2) and step 8 (12.3) for records
// other than operations.
func originCases() []vcase {
	sheetBody := object(baseSheet)
	retractBody := `{"id":"conformance","reason":"moved"}`
	profileBody := `{"name":"Ville de Roubaix","country":"FR","level":"municipality"}`
	return []vcase{
		okBy(seedDelegate, "delegated-practice", orgRecord("practice", sheetBody)),
		okBy(seedDelegate, "delegated-retract", orgRecord("retract", retractBody)),
		okBy(seedDelegate, "delegated-profile", orgRecord("profile", profileBody)),
		okBy(seedDelegate, "delegated-members", orgRecord("members", memberList())),
		okBy(seedDelegate, "delegated-practice-members-in-other-order", `{"practice":`+sheetBody+`,"auth":"`+vecGenesisHash+`","signer":"`+vecD+`","kind":"practice","time":"2026-12-01T10:00:00Z","seq":2,"publisher":"`+vecOrg+`","v":1}`),
		okBy(seedR0, "practice-signed-by-rotation-key", orgRecord("practice", sheetBody, "signer", q(vecR0))),
		badBy(seedDelegate, "auth-absent", orgRecord("practice", sheetBody, "auth", "-"), "invalid", "auth"),
		badBy(seedDelegate, "auth-upper-case", orgRecord("practice", sheetBody, "auth", q(strings.ToUpper(vecGenesisHash))), "malformed", ""),
		badBy(seedDelegate, "auth-all-zeros", orgRecord("practice", sheetBody, "auth", q(strings.Repeat("0", 64))), "malformed", ""),
		badBy(seedDelegate, "auth-empty", orgRecord("practice", sheetBody, "auth", `""`), "malformed", ""),
		badBy(seedDelegate, "auth-not-hex", orgRecord("practice", sheetBody, "auth", q(strings.Repeat("g", 64))), "malformed", ""),
		badBy(seedDelegate, "signer-absent", orgRecord("practice", sheetBody, "signer", "-"), "publisher_mismatch", ""),
		badBy(seedDelegate, "signer-not-envelope-key", orgRecord("practice", sheetBody, "signer", q(vecR1)), "publisher_mismatch", ""),
		badBy(seedDelegate, "signer-empty", orgRecord("practice", sheetBody, "signer", `""`), "malformed", ""),
		badBy(seedDelegate, "org-publisher-without-auth-profile", orgRecord("profile", profileBody, "auth", "-"), "invalid", "auth"),
		badBy(conformanceKeySeed, "members-by-key-publisher", ann("members", memberList()), "invalid", "publisher"),
		badBy(conformanceKeySeed, "org-by-key-publisher", ann("org", opBody()), "invalid", "publisher"),
		badBy(conformanceKeySeed, "key-publisher-with-auth", ann("practice", sheetBody, "auth", q(vecGenesisHash)), "invalid", "auth"),
		badBy(conformanceKeySeed, "key-publisher-with-signer", ann("practice", sheetBody, "signer", q(vecPublisher)), "invalid", "signer"),
		badBy(seedDelegate, "kind-org-without-op", orgRecord("org", "-"), "invalid", "org"),
	}
}

// listCases: membership lists (12.7), published by the delegate.
func listCases() []vcase {
	list := func(over ...string) string { return orgRecord("members", memberList(over...)) }
	name := func(s string) string { return list("list", q(s)) }
	members := func(m ...string) string { return list("members", "["+strings.Join(m, ",")+"]") }
	member := func(id string, over ...string) string { return object([]string{"id", q(id)}, over...) }
	return []vcase{
		okBy(seedDelegate, "list-name-1", name("a")),
		okBy(seedDelegate, "list-name-64", name("0"+strings.Repeat("-", 63))),
		okBy(seedDelegate, "list-members-empty", list("members", `[]`)),
		okBy(seedDelegate, "list-members-absent", list("members", "-")),
		okBy(seedDelegate, "list-member-org-id", members(member(vecOrg))),
		okBy(seedDelegate, "list-member-name-300", members(member(vecPublisher, "name", q(strings.Repeat("é", MaxNameLen))))),
		badBy(seedDelegate, "list-name-upper-case", name("Eurocities"), "invalid", "members.list"),
		badBy(seedDelegate, "list-name-leading-hyphen", name("-eurocities"), "invalid", "members.list"),
		badBy(seedDelegate, "list-name-65", name(strings.Repeat("a", 65)), "invalid", "members.list"),
		badBy(seedDelegate, "list-name-empty", name(""), "invalid", "members.list"),
		badBy(seedDelegate, "list-name-underscore", name("euro_cities"), "invalid", "members.list"),
		badBy(seedDelegate, "list-title-absent", list("title", "-"), "invalid", "members.title"),
		badBy(seedDelegate, "list-title-empty", list("title", `""`), "invalid", "members.title"),
		badBy(seedDelegate, "list-title-301", list("title", q(strings.Repeat("é", MaxTitleLen+1))), "invalid", "members.title"),
		badBy(seedDelegate, "list-member-twice", members(member(vecOrg), member(vecPublisher), member(vecOrg, "name", `"Again"`)), "invalid", "members.members[2].id"),
		badBy(seedDelegate, "list-member-not-publisher-id", members(member(sha256PeerID)), "invalid", "members.members[0].id"),
		badBy(seedDelegate, "list-member-id-absent", members(`{"name":"Nobody"}`), "invalid", "members.members[0].id"),
		badBy(seedDelegate, "list-member-id-not-peer-id", members(member("eurocities")), "malformed", ""),
		badBy(seedDelegate, "list-member-name-301", members(member(vecPublisher, "name", q(strings.Repeat("é", MaxNameLen+1)))), "invalid", "members.members[0].name"),
		badBy(seedDelegate, "list-member-name-line-feed", members(member(vecPublisher, "name", `"a\nb"`)), "invalid", "members.members[0].name"),
		badBy(seedDelegate, "list-member-unknown-member", members(member(vecPublisher, "role", `"chair"`)), "malformed", ""),
	}
}

// seedHex is the hex of a seed of 32 equal bytes.
func seedHex(seed byte) string { return strings.Repeat(fmt.Sprintf("%02x", seed), 32) }
