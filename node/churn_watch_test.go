package node

// What a churn run (churn_test.go) records and how it turns the record
// into figures: every honest publication with the time it was stored, and
// delivered by gossip, on each honest node; when each node was down; each
// restart; when the network was split.

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// churnPub is one honest publication.
type churnPub struct {
	publisher int
	pubID     peer.ID
	slot      string
	seq       uint64
	hash      protocol.Hash
	msgID     string
	env       []byte
	at        time.Time // just before the Publish call
	// up says which honest nodes were up at the time.
	up []bool
	// stored and gossip hold, per honest node, when the watcher first saw
	// the publication (or a later version of its slot) in the node's store
	// and when gossip delivered it (passed the node's validator), in Unix
	// nanoseconds; 0 for not yet.
	stored, gossip []atomic.Int64
}

// churnSpan is an interval a node was down; up is zero while it is.
type churnSpan struct{ down, up time.Time }

// churnRestart is one restart: down, reopened (New called), up (New
// returned and neighbours dialled); ref is the live node whose holdings at
// reopen the restarted one must catch up with.
type churnRestart struct {
	peer               int
	down, reopen, upAt time.Time
	ref                int
}

// churnDelivery is a gossip delivery of a message not yet registered.
type churnDelivery struct {
	peer int
	at   time.Time
}

// churnLedger is the record of one run. Its methods are safe for
// concurrent use.
type churnLedger struct {
	honN int
	// mu guards every field below.
	mu       sync.RWMutex
	pubs     []*churnPub
	byMsg    map[string]*churnPub
	early    map[string][]churnDelivery // deliveries before registration
	downs    [][]churnSpan
	restarts []*churnRestart
	cutAt    time.Time
	healAt   time.Time
}

func newChurnLedger(honN int) *churnLedger {
	return &churnLedger{honN: honN, byMsg: map[string]*churnPub{}, early: map[string][]churnDelivery{},
		downs: make([][]churnSpan, honN)}
}

// delivered records that gossip delivered message id to honest node i.
func (l *churnLedger) delivered(i int, id string, at time.Time) {
	l.mu.RLock()
	p := l.byMsg[id]
	l.mu.RUnlock()
	if p != nil {
		p.gossip[i].CompareAndSwap(0, at.UnixNano())
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p = l.byMsg[id]; p != nil { // registered meanwhile
		p.gossip[i].CompareAndSwap(0, at.UnixNano())
		return
	}
	l.early[id] = append(l.early[id], churnDelivery{i, at})
}

// register adds a publication, taking the deliveries that came first.
func (l *churnLedger) register(p *churnPub) {
	p.stored = make([]atomic.Int64, l.honN)
	p.gossip = make([]atomic.Int64, l.honN)
	p.stored[p.publisher].Store(p.at.UnixNano())
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.early[p.msgID] {
		p.gossip[d.peer].CompareAndSwap(0, d.at.UnixNano())
	}
	delete(l.early, p.msgID)
	l.pubs = append(l.pubs, p)
	l.byMsg[p.msgID] = p
}

func (l *churnLedger) wentDown(i int, at time.Time) {
	l.mu.Lock()
	l.downs[i] = append(l.downs[i], churnSpan{down: at})
	l.mu.Unlock()
}

func (l *churnLedger) cameUp(r *churnRestart) {
	l.mu.Lock()
	l.downs[r.peer][len(l.downs[r.peer])-1].up = r.upAt
	l.restarts = append(l.restarts, r)
	l.mu.Unlock()
}

func (l *churnLedger) split(at time.Time)  { l.mu.Lock(); l.cutAt = at; l.mu.Unlock() }
func (l *churnLedger) healed(at time.Time) { l.mu.Lock(); l.healAt = at; l.mu.Unlock() }

// publications returns the publications registered so far.
func (l *churnLedger) publications() []*churnPub {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.pubs)
}

// churnWatcher finds publications in the honest nodes' stores. It is used
// by one goroutine at a time.
type churnWatcher struct {
	cn          *churnNet
	l           *churnLedger
	known       int
	last        []*Node
	seen        []uint64
	outstanding [][]*churnPub
}

func newChurnWatcher(cn *churnNet, l *churnLedger) *churnWatcher {
	return &churnWatcher{cn: cn, l: l, last: make([]*Node, cn.honN), seen: make([]uint64, cn.honN),
		outstanding: make([][]*churnPub, cn.honN)}
}

// round looks, on each up node whose applied counter moved since the last
// round (or that is new, or on every node when force is set or a
// publication was registered since), for the publications it lacks.
func (w *churnWatcher) round(force bool) {
	w.l.mu.RLock()
	fresh := w.l.pubs[w.known:]
	w.known = len(w.l.pubs)
	w.l.mu.RUnlock()
	for v := range w.outstanding {
		for _, p := range fresh {
			if p.publisher != v {
				w.outstanding[v] = append(w.outstanding[v], p)
			}
		}
	}
	force = force || len(fresh) > 0
	for v, cp := range w.cn.peers[:w.cn.honN] {
		cp.mu.RLock()
		if n := cp.node; n != nil {
			if c := n.stats.applied.Load(); force || n != w.last[v] || c != w.seen[v] {
				w.last[v], w.seen[v] = n, c
				// The clock after the counter: what is stored now was
				// stored before this instant.
				w.check(v, n, time.Now().UnixNano())
			}
		}
		cp.mu.RUnlock()
	}
}

func (w *churnWatcher) check(v int, n *Node, at int64) {
	keep := w.outstanding[v][:0]
	for _, p := range w.outstanding[v] {
		if h, err := n.Store().Head(p.pubID, p.slot); err == nil && h.Seq >= p.seq {
			p.stored[v].Store(at)
		} else {
			keep = append(keep, p)
		}
	}
	w.outstanding[v] = keep
}

// pending is how many (publication, node) pairs are not stored yet.
func (w *churnWatcher) pending() int {
	k := 0
	for _, o := range w.outstanding {
		k += len(o)
	}
	return k
}

// churnFigures are a run's figures for gossip and catch-up.
type churnFigures struct {
	lat         []time.Duration // publish to stored, eligible pairs
	pairs       int             // pairs for the delivery rate
	delivered   int             // of which gossip delivered within the bound
	inBound     int             // of which were stored within the bound, by gossip or sync
	interrupted int             // eligible but down before stored
	separated   int             // pairs the partition kept apart
	// afterHeal holds, for separated pairs whose node was up from the heal
	// until it stored the publication, the time from the heal.
	afterHeal  []time.Duration
	catchUp    []time.Duration
	incomplete int // restarts that went down again before catching up
}

// downBetween reports whether node v was down at any time in [from, to].
// The caller holds l.mu.
func (l *churnLedger) downBetween(v int, from, to time.Time) bool {
	for _, s := range l.downs[v] {
		if s.down.After(to) {
			continue
		}
		if s.up.IsZero() || !s.up.Before(from) {
			return true
		}
	}
	return false
}

// figures computes the figures once the run has settled. A pair
// (publication, node) counts for propagation when the node was up at
// publication and stayed up until it stored it, and no partition lay
// between them within bound of publication; it counts for the delivery
// rate when, in addition, the node stayed up for the whole bound.
func (l *churnLedger) figures(cn *churnNet, bound time.Duration) churnFigures {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var f churnFigures
	for _, p := range l.pubs {
		end := p.at.Add(bound)
		split := !l.cutAt.IsZero() && l.cutAt.Before(end) && (l.healAt.IsZero() || l.healAt.After(p.at))
		for v := range l.honN {
			if v == p.publisher || !p.up[v] {
				continue
			}
			if split && cn.crosses(p.publisher, v) {
				f.separated++
				if st := p.stored[v].Load(); st > l.healAt.UnixNano() && !l.healAt.IsZero() && !l.downBetween(v, l.healAt, time.Unix(0, st)) {
					f.afterHeal = append(f.afterHeal, time.Unix(0, st).Sub(l.healAt))
				}
				continue
			}
			st := time.Unix(0, p.stored[v].Load())
			if p.stored[v].Load() == 0 || l.downBetween(v, p.at, st) {
				f.interrupted++
				continue
			}
			f.lat = append(f.lat, st.Sub(p.at))
			if l.downBetween(v, p.at, end) {
				continue
			}
			f.pairs++
			if st.Sub(p.at) <= bound {
				f.inBound++
			}
			if g := p.gossip[v].Load(); g != 0 && time.Unix(0, g).Sub(p.at) <= bound {
				f.delivered++
			}
		}
	}
	l.catchUps(&f)
	return f
}

// catchUps adds, for each restart, the time from reopening until the node
// held everything its reference node held at that moment. The caller
// holds l.mu.
func (l *churnLedger) catchUps(f *churnFigures) {
	for _, r := range l.restarts {
		done, ok := r.upAt, true
		for _, p := range l.pubs {
			if s := p.stored[r.ref].Load(); !p.at.Before(r.reopen) || s == 0 || s > r.reopen.UnixNano() {
				continue // not held by the reference at reopen
			}
			s := p.stored[r.peer].Load()
			if s == 0 {
				ok = false
				break
			}
			done = churnLater(done, time.Unix(0, s))
		}
		if ok && l.downBetween(r.peer, r.upAt.Add(time.Nanosecond), done) {
			ok = false // down again before it caught up
		}
		if !ok {
			f.incomplete++
			continue
		}
		f.catchUp = append(f.catchUp, done.Sub(r.reopen))
	}
}

func churnLater(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
