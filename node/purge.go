package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultPurgeInterval is how often the node checks whether superseded,
// retracted or removed content is still on disk and, if so, purges it.
const DefaultPurgeInterval = time.Hour

// PurgeResult says what one purge did.
type PurgeResult struct {
	// Publisher is the publisher whose records were removed, if one was
	// named; Removed counts its state records.
	Publisher peer.ID
	Removed   int
	// Compacted is true when the store was rewritten without superseded
	// content (false when there was nothing to purge).
	Compacted bool
	// Before and After are the bytes of the store directory.
	Before, After int64
	// Reindexed counts the practices in the rebuilt search index.
	Reindexed int
	// Took is how long the purge took.
	Took time.Duration
}

// Purge removes from this node, at once, what it should no longer hold,
// and physically erases it from disk: when pub is not empty, every record
// of that publisher (which comes back by gossip or sync unless the trust
// policy refuses it: add it to trust.deny too); then every superseded,
// retracted or removed announcement, from the store's files (a compacting
// copy) and from the search index (a rebuild, which removes the old index
// files). Reads go on meanwhile; writes wait for the store's copy.
func (n *Node) Purge(ctx context.Context, pub peer.ID) (PurgeResult, error) {
	return n.purge(ctx, pub, true)
}

func (n *Node) purge(ctx context.Context, pub peer.ID, force bool) (PurgeResult, error) {
	n.purgeMu.Lock()
	defer n.purgeMu.Unlock()
	start := time.Now()
	res := PurgeResult{Publisher: pub}
	if pub != "" {
		k, err := n.store.RemovePublisher(ctx, pub)
		if err != nil {
			return res, fmt.Errorf("remove the records of %s: %w", pub, err)
		}
		res.Removed = k
		n.log.Info("Removed a publisher's records.", "publisher", pub, "records", k)
	}
	pending, err := n.store.PurgePending()
	if err != nil {
		return res, err
	}
	if pending || force {
		st, err := n.store.Compact(ctx)
		if err != nil {
			return res, fmt.Errorf("purge the store: %w", err)
		}
		res.Compacted, res.Before, res.After = true, st.Before, st.After
		if n.index != nil {
			k, err := n.index.Rebuild(ctx)
			if err != nil {
				return res, fmt.Errorf("purge the search index: %w", err)
			}
			res.Reindexed = k
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// enforcePolicy removes the records of every stored publisher that the
// trust policy no longer keeps (denied, not allowed in allowlist mode, not
// followed nor listed in lists mode), so a policy change applies to the
// past too. It runs in New, before the node serves anything, and after a
// policy change (SetTrust, a new membership list in lists mode), with
// quotaMu held; the purge loop then erases the content from disk.
// Removed records leave the seen log, so they come back if the policy
// keeps their publisher again.
func (n *Node) enforcePolicy(ctx context.Context) error {
	var drop []peer.ID
	for p, err := range n.store.Publishers() {
		if err != nil {
			return err
		}
		if p.ID != n.self && !n.policy.keeps(p.ID) {
			drop = append(drop, p.ID)
		}
	}
	for _, pub := range drop {
		k, err := n.store.RemovePublisher(ctx, pub)
		if err != nil {
			return fmt.Errorf("remove the records of %s, which the trust policy no longer keeps: %w", pub, err)
		}
		n.log.Info("Removed the records of a publisher the trust policy does not keep.", "publisher", pub, "records", k)
		n.notifyIndex(pub)
	}
	if len(drop) > 0 {
		n.orgs.invalidate(drop...)
	}
	return nil
}

// purgeLoop erases superseded, retracted and removed content from disk:
// at start, then every PurgeInterval, whenever the store says some may be
// left. So such content is gone from disk within PurgeInterval of the
// change (default one hour), or at the next start. A failed purge is
// logged and retried; the loop fails only if the store is closed under it.
func (n *Node) purgeLoop(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := n.purge(ctx, "", false); err != nil && ctx.Err() == nil {
			switch {
			case errors.Is(err, store.ErrClosed):
				return fmt.Errorf("purge superseded content: %w", err)
			case errors.Is(err, store.ErrNoSpace):
				n.log.Warn("Superseded content stays on disk until space allows a purge.", "err", err)
			default:
				n.log.Error("Could not purge superseded content from disk; will retry.", "err", err)
			}
		}
		t.Reset(n.cfg.PurgeInterval)
	}
}
