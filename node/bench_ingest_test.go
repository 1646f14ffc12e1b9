package node

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// against: the same envelopes, the same machine, no peer.
func localIngest(b *testing.B, envs [][]byte) (took, cpu time.Duration) {
	b.Helper()
	n := tcpNode(b, 2)
	defer n.Close()
	st := n.Store()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cputime.Process()
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
	took, cpu = time.Since(start), cputime.Process()-cpu0
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("local ingest: %v", err)
	}
	if d := digest(b, n); d.Count != uint64(len(envs)) {
		b.Fatalf("local ingest stored %d records, want %d", d.Count, len(envs))
	}
	return took, cpu
}
