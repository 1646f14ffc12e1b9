package node

import (
	"fmt"
	"sync"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxChains bounds the chains the cache holds. Past it, an arbitrary one
// is dropped (and built again from the store when asked for): a chain is
// at most protocol.MaxOrgOps operations, cheap to rebuild, and hostile
// gossip naming random organisations must not grow the cache.
const maxChains = 4096

// orgs keeps a *protocol.Chain per organisation, built from the
// operations the store holds (store.OrgOps) and cached. It is safe for
// concurrent use: validators read it on every core while the apply path
// invalidates the chains of organisations whose operations it stored.
//
// Every invalidation bumps a generation. A chain built from a store read
// is cached only if no invalidation happened meanwhile, so the cache
// never holds a chain older than the store's operations as of the last
// invalidation; the pending pool uses the generation to tell a record
// judged against a chain that has since changed (pendingPool.hold).
type orgs struct {
	st *store.Store

	// mu guards chains and gen.
	mu     sync.RWMutex
	chains map[peer.ID]*protocol.Chain
	gen    uint64
}

func newOrgs(st *store.Store) *orgs {
	return &orgs{st: st, chains: map[peer.ID]*protocol.Chain{}}
}

// generation returns the number of invalidations so far.
func (o *orgs) generation() uint64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.gen
}

// chain returns org's chain as the store holds it (unknown, with no
// operation, when the store holds none).
func (o *orgs) chain(org peer.ID) (*protocol.Chain, error) {
	o.mu.RLock()
	c, ok := o.chains[org]
	gen := o.gen
	o.mu.RUnlock()
	if ok {
		return c, nil
	}
	ops, err := o.st.OrgOps(org)
	if err != nil {
		return nil, fmt.Errorf("read the operations of %s: %w", org, err)
	}
	c = protocol.NewChain(org, ops)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gen == gen {
		if len(o.chains) >= maxChains {
			for k := range o.chains {
				delete(o.chains, k)
				break
			}
		}
		o.chains[org] = c
	}
	return c, nil
}

// invalidate forgets the chains of these organisations (after their
// operations changed in the store) and bumps the generation.
func (o *orgs) invalidate(orgIDs ...peer.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gen++
	for _, id := range orgIDs {
		delete(o.chains, id)
	}
}

// authorise judges a record against its organisation's chain: nil for a
// record of a plain publisher or one the chain authorises; otherwise an
// error wrapping protocol.ErrChainPending, protocol.ErrUnauthorised,
// protocol.ErrRevoked or ErrOrgQuota (an operation beyond
// protocol.MaxOrgOps, unless the store holds it already). It also returns
// the chain it used (nil for a plain publisher).
func (o *orgs) authorise(sg *protocol.Signed) (*protocol.Chain, error) {
	ann := sg.Announcement()
	if !protocol.IsOrg(ann.Publisher) {
		return nil, nil
	}
	c, err := o.chain(ann.Publisher)
	if err != nil {
		return nil, err
	}
	if ann.Kind == protocol.KindOrg {
		if _, held := c.Op(sg.Hash()); !held && len(c.Ops()) >= protocol.MaxOrgOps {
			return c, fmt.Errorf("%w: %s holds %d", ErrOrgQuota, ann.Publisher, len(c.Ops()))
		}
	}
	return c, c.Authorise(ann, sg.Signer())
}

// isOp reports whether sg is an organisation operation.
func isOp(sg *protocol.Signed) bool { return sg.Announcement().Kind == protocol.KindOrg }

// headHash returns the hash of c's head, zero when c is unknown or nil.
func headHash(c *protocol.Chain) protocol.Hash {
	if c == nil {
		return protocol.Hash{}
	}
	if h := c.Head(); h != nil {
		return h.Hash()
	}
	return protocol.Hash{}
}
