package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
)

// Node is a running Khantara node. Create it with New, stop it with Close.
// Its methods are safe for concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	key     crypto.PrivKey
	self    peer.ID
	host    host.Host
	store   *store.Store
	index   *search.Index // nil when cfg.NoSearch
	policy  *policy       // the trust policy, swappable (policy.go)
	orgs    *orgs         // organisations' chains (orgs.go)
	pending *pendingPool  // records waiting for their chain (pending.go)
	// org is the organisation this node publishes for, nil or empty for
	// none (Config.Org, SetOrg).
	org    atomic.Pointer[peer.ID]
	space  *store.SpaceMonitor // nil when the free-space check is off (space.go)
	quotas *quotas
	// quotaMu makes a batch's quota check and its store write one step.
	quotaMu sync.Mutex
	// purgeMu runs purges one at a time; it is held for a whole purge.
	purgeMu sync.Mutex

	ps *pubsub.PubSub
	// topic and sub are the v1 topic, topic2 and sub2 the v2 topic
	// (topics.go).
	topic, topic2 *pubsub.Topic
	sub, sub2     *pubsub.Subscription

	ingest chan ingestItem
	sched  *scheduler
	disc   *discovery
	// reach follows how the node is reached (reach.go); reachSub is its
	// subscription, relay the relay service when relay_service is on
	// (else nil: libp2p runs it in auto mode), dht the network's DHT
	// (nil when off).
	reach    *reach
	reachSub event.Subscription
	relay    *relayv2.Relay
	dht      *dhtService

	// pubMu serialises own announcements, so sequence numbers are unique;
	// it guards orgSeq, the highest sequence number this node used for
	// its organisation (whose other delegates share the sequence).
	pubMu  sync.Mutex
	orgSeq uint64

	stats  counters
	scores atomic.Pointer[map[peer.ID]float64]
	// started is when New ran, for the API's status.
	started time.Time

	// Lifecycle (lifecycle.go). ctx ends when the node stops: on Close,
	// or when a loop fails. wg counts the loops goFunc started.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// stopOnce closes done and sets failure, the first loop failure (nil
	// when Close stopped the node), which is read only after done closes.
	stopOnce  sync.Once
	done      chan struct{}
	failure   error
	closeOnce sync.Once
	closeErr  error
}

type options struct {
	host      host.Host
	log       *slog.Logger
	now       func() time.Time
	storeOpts []store.Option
	psOpts    []pubsub.Option
	// syncV1Only: see WithSyncV1Only (sync.go).
	syncV1Only bool
}

// Option customises New.
type Option func(*options)

// WithHost makes the node use h instead of building a host from the
// configuration (tests pass mocknet hosts). The node takes ownership and
// closes h on Close. h's identity key must be Ed25519 and in its peerstore.
func WithHost(h host.Host) Option { return func(o *options) { o.host = h } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithStoreOptions passes options to store.Open.
func WithStoreOptions(opts ...store.Option) Option {
	return func(o *options) { o.storeOpts = append(o.storeOpts, opts...) }
}

// WithPubsubOptions adds gossipsub options after the node's own (tests
// attach tracers this way).
func WithPubsubOptions(opts ...pubsub.Option) Option {
	return func(o *options) { o.psOpts = append(o.psOpts, opts...) }
}

// New validates cfg, opens the store in cfg.Home, starts the host (or
// adopts the one given WithHost), joins the network's topic and starts
// sync, discovery and the ingest loop. On error nothing is left running.
// The node runs until Close; Serve runs it as a service.
func New(cfg Config, opts ...Option) (n *Node, err error) {
	o := options{log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n = &Node{cfg: cfg, log: o.log, now: o.now, ingest: make(chan ingestItem, 1024),
		started: o.now().UTC(), done: make(chan struct{}), reach: newReach(cfg.Reach)}
	n.reach.log = o.log
	if cfg.Org != "" {
		org, _ := protocol.DecodeID(cfg.Org) // Validate checked it
		n.org.Store(&org)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var undo undoList
	cancel := n.cancel // n is nil once a step's error is returned
	defer func() {
		if err != nil {
			cancel()
			undo.run()
		}
	}()
	for _, step := range []func(*options, *undoList) error{n.openHost, n.openStorage, n.joinTopic, n.startSync, n.startDHT} {
		if err := step(&o, &undo); err != nil {
			return nil, err
		}
	}
	n.goFunc("gossip reader", n.readGossip(n.sub))
	n.goFunc("gossip reader v2", n.readGossip(n.sub2))
	n.goFunc("pending records", n.pendingLoop)
	n.goFunc("ingest", n.applyLoop)
	n.goFunc("space watcher", n.watchSpace)
	n.goFunc("purge", n.purgeLoop)
	n.goFunc("sync scheduler", n.sched.run)
	n.goFunc("discovery", n.disc.run)
	n.goFunc("reachability", func(ctx context.Context) error { return n.reach.run(ctx, n.reachSub) })
	if n.dht != nil {
		n.goFunc("dht", n.dht.run)
	}
	n.log.Info("Node started.", "peer", n.self, "network", cfg.Network, "addrs", n.host.Addrs())
	return n, nil
}

// Close stops every loop, waits for in-flight sync sessions and writes,
// then closes pubsub, the host and the store. It is safe to call more than
// once; later calls return the first call's result, which wraps
// ErrLoopStopped if a loop had failed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.stopServingSync()
		n.stop(nil)
		n.sub.Cancel()
		n.sub2.Cancel()
		n.wg.Wait() // the scheduler's loop waits for its sessions
		n.sched.adm.close()
		n.disc.close()
		derr := n.dht.close()
		if n.relay != nil {
			derr = errors.Join(derr, n.relay.Close())
		}
		// Pubsub stops with the context; the topic needs no separate close.
		var ierr error
		if n.index != nil {
			ierr = n.index.Close()
		}
		n.closeErr = errors.Join(n.failure, derr, n.host.Close(), ierr, n.store.Close())
		n.log.Info("Node stopped.", "peer", n.self)
	})
	return n.closeErr
}

// ID is the node's peer ID, which is also its publisher ID unless the
// node publishes for an organisation (Org).
func (n *Node) ID() peer.ID { return n.self }

// Host is the node's libp2p host. Callers must not close it.
func (n *Node) Host() host.Host { return n.host }

// Store is the node's store. Callers must not close it.
func (n *Node) Store() *store.Store { return n.store }

// Config returns the configuration the node runs with, with the trust
// policy SetTrust last applied and the organisation SetOrg last set.
func (n *Node) Config() Config {
	c := n.cfg
	c.Trust = n.policy.load().trust
	c.Org = ""
	if org := n.Org(); org != "" {
		c.Org = org.String()
	}
	return c
}

// PeerScores returns the latest gossipsub scores by peer (refreshed every
// scoreRefresh), or nil before the first refresh.
func (n *Node) PeerScores() map[peer.ID]float64 {
	if m := n.scores.Load(); m != nil {
		return *m
	}
	return nil
}

// Publish announces a practice: it seals the sheet with the next sequence
// number, stores it durably, then gossips it. When the node publishes for
// an organisation (Org), the organisation is the publisher (see
// announceAs).
func (n *Node) Publish(ctx context.Context, sheet *protocol.FactSheet) (*protocol.Signed, error) {
	return n.announce(ctx, &protocol.Announcement{Kind: protocol.KindPractice, Practice: sheet})
}

// Retract announces the retraction of one of this node's (or its
// organisation's) slots: a practice ID, or the slot of one of its
// experience records (protocol.Experience.Slot: "_exp/<id>" or
// "_endorse/<publisher>/<practice id>", PROTOCOL.md 13.3).
func (n *Node) Retract(ctx context.Context, id, reason string) (*protocol.Signed, error) {
	return n.announce(ctx, &protocol.Announcement{Kind: protocol.KindRetract, Retract: &protocol.Retraction{ID: id, Reason: reason}})
}

// SetProfile announces the publisher's organisation profile.
func (n *Node) SetProfile(ctx context.Context, p *protocol.Profile) (*protocol.Signed, error) {
	return n.announce(ctx, &protocol.Announcement{Kind: protocol.KindProfile, Profile: p})
}

func (n *Node) announce(ctx context.Context, ann *protocol.Announcement) (*protocol.Signed, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if err := n.checkSpace(); err != nil {
		return nil, err
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	if org := n.Org(); org != "" {
		return n.announceAs(ctx, org, ann)
	}
	seq, err := n.nextSeq(n.self)
	if err != nil {
		return nil, err
	}
	ann.V, ann.Publisher, ann.Seq = protocol.Version, n.self, seq
	ann.Time = n.now().UTC().Truncate(time.Second)
	signed, err := protocol.Seal(ann, n.key)
	if err != nil {
		return nil, err
	}
	if err := n.storeOwn(ctx, signed); err != nil {
		return nil, err
	}
	n.publish(ctx, signed)
	return signed, nil
}

// nextSeq returns 1 + the highest sequence number the store has seen of
// pub.
func (n *Node) nextSeq(pub peer.ID) (uint64, error) {
	switch sum, err := n.store.PublisherSummary(pub); {
	case err == nil:
		return sum.MaxSeenSeq + 1, nil
	case errors.Is(err, store.ErrNotFound):
		return 1, nil
	default:
		return 0, err
	}
}

// storeOwn stores one of the node's own announcements durably.
func (n *Node) storeOwn(ctx context.Context, signed *protocol.Signed) error {
	in := []store.Incoming{{Signed: signed}}
	res, err := n.store.Apply(ctx, in...)
	if err != nil {
		return fmt.Errorf("store announcement: %w", err)
	}
	n.indexApplied(in, res)
	return nil
}

// apply stores announcements received from peers (gossip or sync), as
// orgapply.go describes: records of organisations are judged against
// their chains first, pending ones wait in the pending pool, and the
// pending records a new operation releases are stored and published too.
// Announcements skipped (over quota, not authorised, pending, not kept
// by the policy) have a result without Outcome. It returns once they are
// stored as d says.
func (n *Node) apply(ctx context.Context, batch []store.Incoming, d durability) ([]store.Result, error) {
	// Space first: a batch the disk cannot take spends no quota.
	if n.space != nil {
		if err := n.space.CheckBatch(batch); err != nil {
			return nil, err
		}
	}
	// One batch at a time is checked against the quotas and the chains
	// and stored, so gossip and sync together cannot take a publisher past
	// its quota, nor store a record against a chain that changed.
	n.quotaMu.Lock()
	res, released, err := n.applyLocked(ctx, batch, d)
	n.quotaMu.Unlock()
	for _, sg := range released {
		n.publish(ctx, sg)
	}
	return res, err
}

// durability says when a write of announcements from peers returns.
type durability bool

const (
	// durable: once fsynced (store.Apply); own publications, Submit and
	// sync sessions.
	durable durability = false
	// committed: once committed, the fsync following within the store's
	// sync delay (store.ApplyCommitted); gossip, which a power cut may
	// cost the last moments of and which sync fetches again from peers.
	committed durability = true
)

// storeBatch stores announcements that passed every other check, within
// the publishers' quotas, as d says. The caller holds quotaMu.
func (n *Node) storeBatch(ctx context.Context, batch []store.Incoming, d durability) ([]store.Result, error) {
	keep := make([]bool, len(batch))
	skipped := 0
	counted := map[peer.ID]*quotaHeld{}
	unstored := map[protocol.Hash]bool{} // operations of batch left out
	for i, in := range batch {
		if isOp(in.Signed) && unstored[in.Signed.Announcement().Org.Prev] {
			// Its prev, judged in the same round, is over quota: it waits
			// for it in the pending pool (orgapply.go, opJudge).
			if _, err := n.judged(in, fmt.Errorf("%w: prev %s is not stored", protocol.ErrChainPending, in.Signed.Announcement().Org.Prev)); err != nil {
				return nil, err
			}
			unstored[in.Signed.Hash()] = true
			skipped++
			continue
		}
		var prior *store.Prior
		if in.Prior.Current() {
			prior = in.Prior // still what the store holds: no need to ask
		}
		ok, err := n.quotas.admit(in.Signed, len(in.Signed.Envelope()), true, counted, prior)
		if err != nil {
			return nil, err
		}
		if keep[i] = ok; !ok {
			n.stats.ignored[reasonIndex(ReasonQuota)].Add(1)
			skipped++
			if isOp(in.Signed) {
				unstored[in.Signed.Hash()] = true
			}
		}
	}
	kept := batch
	if skipped > 0 {
		kept = make([]store.Incoming, 0, len(batch)-skipped)
		for i, in := range batch {
			if keep[i] {
				kept = append(kept, in)
			}
		}
	}
	if len(kept) == 0 {
		return make([]store.Result, len(batch)), nil
	}
	write := n.store.Apply
	if d == committed {
		write = n.store.ApplyCommitted
	}
	res, err := write(ctx, kept...)
	if err != nil {
		return nil, err
	}
	n.countApplied(res)
	n.indexApplied(kept, res)
	if skipped == 0 {
		return res, nil
	}
	all := make([]store.Result, len(batch))
	k := 0
	for i := range batch {
		if keep[i] {
			all[i] = res[k]
			k++
		}
	}
	return all, nil
}
