package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/khantara/khantara/search"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
)

// Every long-lived goroutine of a node is a loop started by goFunc, which
// the node owns: Close cancels the node's context and waits for each one.
// A loop returns nil when the context ends (or when it has nothing to do),
// and an error when it cannot go on; the first such error stops the node:
// it is logged, wrapped in ErrLoopStopped, and returned by Err, Serve and
// Close. Shorter-lived goroutines have owners too: sync sessions the
// scheduler's loop (which waits for them), the sessions peers open the
// admission (Close waits for it), dials the discovery, the verifier's
// workers the session reading a message.

// undoList holds what New must undo, in reverse, if a later step fails.
type undoList []func()

func (u *undoList) add(f func()) { *u = append(*u, f) }

func (u undoList) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// openHost adopts the host given WithHost, or builds one with the key in
// cfg.Home.
func (n *Node) openHost(o *options, undo *undoList) (err error) {
	if o.host != nil {
		n.host = o.host
		n.key = o.host.Peerstore().PrivKey(o.host.ID())
		if n.key == nil || n.key.Type() != crypto.Ed25519 {
			o.host.Close()
			return errors.New("the host given to node.New has no Ed25519 key in its peerstore")
		}
	} else {
		if n.key, err = LoadIdentity(n.cfg.identityPath()); err != nil {
			return err
		}
		if n.host, err = newHost(&n.cfg, n.key, n.reach); err != nil {
			return err
		}
	}
	undo.add(func() { n.host.Close() })
	n.self = n.host.ID()
	if n.reachSub, err = n.reach.subscribe(n.host); err != nil {
		return err
	}
	undo.add(func() { n.reachSub.Close() })
	if n.cfg.RelayService == ModeOn {
		if n.relay, err = relayv2.New(n.host, relayOptions(n.reach)...); err != nil {
			return fmt.Errorf("start the relay service: %w", err)
		}
		undo.add(func() { n.relay.Close() })
	}
	return nil
}

// startDHT starts the network's DHT (nil when dht is off) and gives
// autorelay the address book as a source of relay candidates.
func (n *Node) startDHT(_ *options, undo *undoList) (err error) {
	candidates := n.disc.relayCandidates
	n.reach.candidates.Store(&candidates)
	if n.dht, err = newDHT(n, n.disc.boot); err != nil {
		return err
	}
	undo.add(func() { n.dht.close() })
	return nil
}

// openStorage opens the store (watched by the space monitor), applies the
// trust policy to what it holds, and opens the search index.
func (n *Node) openStorage(o *options, undo *undoList) (err error) {
	if n.space, err = newSpaceMonitor(&n.cfg, o.log); err != nil {
		return err
	}
	storeOpts := append([]store.Option{store.WithLogger(o.log)}, o.storeOpts...)
	if n.space != nil {
		storeOpts = append(storeOpts, store.WithSpaceMonitor(n.space))
	}
	if n.store, err = store.Open(n.cfg.storeDir(), storeOpts...); err != nil {
		return err
	}
	undo.add(func() { n.store.Close() })
	n.orgs = newOrgs(n.store)
	n.pending = newPendingPool(n.now, n.orgs.generation, func(k int) {
		n.stats.ignored[reasonIndex(ReasonChainMissing)].Add(uint64(k))
	})
	r, err := buildRules(n.cfg.Trust, n.ownIDs(), n.store)
	if err != nil {
		return err
	}
	n.policy = newPolicy(r)
	n.quotas = newQuotas(n.cfg.Quota, n.self, n.policy, n.store, n.now)
	if err := n.enforcePolicy(n.ctx); err != nil {
		return err
	}
	if !n.cfg.NoSearch {
		if n.index, err = search.Open(n.cfg.indexDir(), n.store, search.WithLogger(o.log), search.WithWriteGate(n.checkSpace)); err != nil {
			return fmt.Errorf("open the search index: %w", err)
		}
		undo.add(func() { n.index.Close() })
	}
	return nil
}

// startSync makes the scheduler, serves the sync protocol and starts
// discovery (whose mDNS may dial at once).
func (n *Node) startSync(o *options, undo *undoList) (err error) {
	if n.sched, err = newScheduler(n, o.syncV1Only); err != nil {
		return err
	}
	undo.add(func() { n.sched.events.Close() })
	n.serveSyncProtocols()
	undo.add(n.stopServingSync)
	if n.disc, err = newDiscovery(n); err != nil {
		return err
	}
	undo.add(n.disc.close)
	return nil
}

// goFunc runs loop f, named name in logs and errors, until the node stops.
// An error f returns while the node runs stops the node (see above).
func (n *Node) goFunc(name string, f func(ctx context.Context) error) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		err := f(n.ctx)
		switch {
		case err == nil:
		case n.ctx.Err() != nil:
			n.log.Debug("A loop ended with an error while the node stopped.", "loop", name, "err", err)
		default:
			err = fmt.Errorf("%w: %s: %w", ErrLoopStopped, name, err)
			n.log.Error("A background loop of the node stopped; the node stops.", "loop", name, "err", err)
			n.stop(err)
		}
	}()
}

// stop ends the node's context and marks the node stopped, with failure
// as the reason (nil for Close). Only the first call counts.
func (n *Node) stop(failure error) {
	n.stopOnce.Do(func() {
		n.failure = failure
		close(n.done)
		n.cancel()
	})
}

// Serve runs the node as a service: it returns when ctx ends or the node
// stops (a loop failed, or Close was called), after closing the node, with
// Close's result: nil after a clean stop, an error wrapping ErrLoopStopped
// if a loop failed. The node is running already when New returns; Serve
// only ties its life to ctx and reports how it ended.
func (n *Node) Serve(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-n.done:
	}
	return n.Close()
}

// Done returns a channel closed when the node stops: when Close is called
// or a background loop fails (then Err says why).
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns nil while the node runs; after it stopped, an error wrapping
// ErrLoopStopped if a loop failed, else ErrClosed.
func (n *Node) Err() error {
	select {
	case <-n.done:
	default:
		return nil
	}
	if n.failure != nil {
		return n.failure
	}
	return ErrClosed
}
