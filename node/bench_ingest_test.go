package node

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/khantara/khantara/internal/cputime"
	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// localIngestWorkers is how many envelopes localIngest has in flight, as
// store's BenchmarkIngest (gossipsub validates concurrently).
const localIngestWorkers = 256

// localIngest times ingesting envs into a fresh node's store without the
// network: each of localIngestWorkers workers opens an envelope
// (protocol.Open) and applies it, every Apply returning fsynced and
// concurrent ones sharing a group commit. It is what catch-up is measured
// against: the same envelopes, the same machine, no peer. The tally holds
// the envelopes, the wall time and the process's CPU time.
func localIngest(b *testing.B, envs [][]byte) cputime.Tally {
	b.Helper()
	n := tcpNode(b, 2)
	defer n.Close()
	st := n.Store()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	sl := cputime.Start()
	for range localIngestWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(envs); i = int(next.Add(1)) - 1 {
				sg, err := protocol.Open(envs[i])
				if err == nil {
					_, err = st.Apply(context.Background(), store.Incoming{Signed: sg, From: "bench"})
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var t cputime.Tally
	t.Add(sl, int64(len(envs)), 0)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("local ingest: %v", err)
	}
	if d := digest(b, n); d.Count != uint64(len(envs)) {
		b.Fatalf("local ingest stored %d records, want %d", d.Count, len(envs))
	}
	return t
}
