package node

import (
	"context"
	"time"

	"sync"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds of the pending pool (PROTOCOL.md 12, pending records): records
// of an organisation whose chain cannot judge them yet wait in memory, at
// most this many, this long; then they are dropped (ReasonChainMissing).
const (
	// MaxPending bounds the records held pending, all organisations
	// together.
	MaxPending = 1024
	// MaxPendingPerOrg bounds the records held pending per organisation.
	MaxPendingPerOrg = 64
	// PendingTTL is how long a pending record waits for its chain.
	PendingTTL = 10 * time.Minute
)

// pendingSweep is how often the node drops pending records whose time ran
// out.
const pendingSweep = 30 * time.Second

// heldRecord is one record waiting for its organisation's chain.
type heldRecord struct {
	sg    *protocol.Signed
	from  peer.ID // who delivered it; empty for Submit
	until time.Time
}

// pendingPool holds records whose organisation's chain is pending
// (protocol.ErrChainPending): in memory only, never stored or forwarded
// until checked again. The apply path takes an organisation's records
// whenever it has stored operations of that organisation and judges them
// again; before it stores an organisation's operations, it also takes the
// held operations they make linkable, to store them in the same write
// (orgapply.go, withLinkableOps). Safe for concurrent use.
type pendingPool struct {
	now     func() time.Time
	gen     func() uint64 // the chain cache's generation (orgs.generation)
	dropped func(k int)   // counts records dropped for a bound or time

	// mu guards byOrg, hashes and total.
	mu     sync.Mutex
	byOrg  map[peer.ID][]heldRecord
	hashes map[protocol.Hash]bool
	total  int
}

func newPendingPool(now func() time.Time, gen func() uint64, dropped func(int)) *pendingPool {
	return &pendingPool{now: now, gen: gen, dropped: dropped, byOrg: map[peer.ID][]heldRecord{}, hashes: map[protocol.Hash]bool{}}
}

// holdResult says what hold did.
type holdResult int

const (
	// holdOK: the record waits (or already waited) in the pool.
	holdOK holdResult = iota
	// holdFull: a bound is reached; the record is dropped and counted.
	holdFull
	// holdChanged: the chain changed since the record was judged (gen is
	// stale); judge it again.
	holdChanged
)

// hold keeps sg, judged pending against the chain of generation gen. A
// record judged against a chain that has changed since is refused with
// holdChanged: the apply path may already have taken the organisation's
// records after storing the operation that would decide it.
func (p *pendingPool) hold(sg *protocol.Signed, from peer.ID, gen uint64) holdResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen() != gen {
		return holdChanged
	}
	return p.holdLocked(heldRecord{sg: sg, from: from, until: p.now().Add(PendingTTL)})
}

// holdLocked adds r within the bounds. The caller holds mu.
func (p *pendingPool) holdLocked(r heldRecord) holdResult {
	if p.hashes[r.sg.Hash()] {
		return holdOK
	}
	org := r.sg.Announcement().Publisher
	if p.total >= MaxPending || len(p.byOrg[org]) >= MaxPendingPerOrg {
		p.dropped(1)
		return holdFull
	}
	p.byOrg[org] = append(p.byOrg[org], r)
	p.hashes[r.sg.Hash()] = true
	p.total++
	return holdOK
}

// putBack returns records taken by take that are still pending, keeping
// their deadlines.
func (p *pendingPool) putBack(rs []heldRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rs {
		p.holdLocked(r)
	}
}

// take removes and returns the records of org that are still in time,
// dropping (and counting) the others.
func (p *pendingPool) take(org peer.ID) []heldRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.byOrg[org]
	if len(rs) == 0 {
		return nil
	}
	delete(p.byOrg, org)
	p.total -= len(rs)
	now := p.now()
	live := rs[:0]
	for _, r := range rs {
		delete(p.hashes, r.sg.Hash())
		if now.Before(r.until) {
			live = append(live, r)
		}
	}
	if k := len(rs) - len(live); k > 0 {
		p.dropped(k)
	}
	return live
}

// ops returns the operations held for org.
func (p *pendingPool) ops(org peer.ID) []*protocol.Signed {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*protocol.Signed
	for _, r := range p.byOrg[org] {
		if isOp(r.sg) {
			out = append(out, r.sg)
		}
	}
	return out
}

// takeHashes removes the records of org whose hashes are in hs and
// returns those still in time, dropping (and counting) the others.
func (p *pendingPool) takeHashes(org peer.ID, hs map[protocol.Hash]bool) []heldRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []heldRecord
	kept := p.byOrg[org][:0]
	now, late := p.now(), 0
	for _, r := range p.byOrg[org] {
		switch {
		case !hs[r.sg.Hash()]:
			kept = append(kept, r)
			continue
		case now.Before(r.until):
			out = append(out, r)
		default:
			late++
		}
		delete(p.hashes, r.sg.Hash())
		p.total--
	}
	if len(kept) == 0 {
		delete(p.byOrg, org)
	} else {
		p.byOrg[org] = kept
	}
	if late > 0 {
		p.dropped(late)
	}
	return out
}

// expire drops (and counts) the records whose time ran out.
func (p *pendingPool) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	k := 0
	for org, rs := range p.byOrg {
		live := rs[:0]
		for _, r := range rs {
			if now.Before(r.until) {
				live = append(live, r)
			} else {
				delete(p.hashes, r.sg.Hash())
				k++
			}
		}
		if len(live) == 0 {
			delete(p.byOrg, org)
		} else {
			p.byOrg[org] = live
		}
	}
	p.total -= k
	if k > 0 {
		p.dropped(k)
	}
}

// size returns the number of records held.
func (p *pendingPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// pendingLoop drops pending records whose time ran out, every
// pendingSweep, until ctx ends.
func (n *Node) pendingLoop(ctx context.Context) error {
	t := time.NewTicker(pendingSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n.pending.expire()
		}
	}
}

// Pending returns the number of records held in memory because their
// organisation's chain cannot judge them yet (at most MaxPending).
func (n *Node) Pending() int { return n.pending.size() }
