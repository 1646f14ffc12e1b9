package node

import (
	"context"
	"runtime"
	"sync"

	"github.com/khantara/khantara/protocol"
)

// verifier opens the envelopes of one message on every core as they
// arrive. The session's goroutine calls add, then wait or stop, after
// which no worker runs; when ctx ends the workers skip what is left.
//
// Concurrency: no mutex. Each job's slots in out and errs are written by
// the one worker that takes the job, and read by the session's goroutine
// only after wait has seen every worker end.
type verifier struct {
	ctx  context.Context
	jobs chan verifyJob
	wg   sync.WaitGroup
	n    int // jobs added so far
	out  []*protocol.Signed
	errs []error
}

type verifyJob struct {
	i   int
	env []byte
}

// newVerifier starts the workers for a message of at most size envelopes.
func newVerifier(ctx context.Context, size int) *verifier {
	v := &verifier{ctx: ctx, jobs: make(chan verifyJob, 256), out: make([]*protocol.Signed, size), errs: make([]error, size)}
	for range runtime.GOMAXPROCS(0) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for j := range v.jobs {
				if ctx.Err() != nil {
					continue // the session is over: drain without work
				}
				v.out[j.i], v.errs[j.i] = protocol.Open(j.env)
			}
		}()
	}
	return v
}

// add queues env for verification. It returns ctx's error if ctx ends
// while the queue is full, and errUnaskedEnvelope past size.
func (v *verifier) add(env []byte) error {
	if v.n == len(v.out) {
		return errUnaskedEnvelope
	}
	select {
	case v.jobs <- verifyJob{i: v.n, env: env}:
		v.n++
		return nil
	case <-v.ctx.Done():
		return v.ctx.Err()
	}
}

// wait waits for every envelope added and returns them opened, or the
// first (in the order added) that did not open, or ctx's error.
func (v *verifier) wait() ([]*protocol.Signed, error) {
	v.stop()
	if err := v.ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range v.errs[:v.n] {
		if err != nil {
			return nil, err
		}
	}
	return v.out[:v.n], nil
}

// stop ends the workers (of a message abandoned, or from wait).
func (v *verifier) stop() {
	close(v.jobs)
	v.wg.Wait()
}
