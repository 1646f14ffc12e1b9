package node

import (
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// pubsubHost is the host gossipsub runs on: the node's own, whose inbound
// pubsub streams are each read through an rpcWatch. It counts the RPCs
// pubsub drops unread for being over the maximum message size (pubsub
// only says so in a debug record of its RPC logger, and having every
// RPC's debug records made, to find these, cost several percent of the
// CPU per delivery).
type pubsubHost struct {
	host.Host
	n *Node
}

// SetStreamHandler registers handler for pid, reading through an rpcWatch.
func (h pubsubHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, h.watch(handler))
}

// SetStreamHandlerMatch registers handler for the protocols match
// accepts, reading through an rpcWatch.
func (h pubsubHost) SetStreamHandlerMatch(pid protocol.ID, match func(protocol.ID) bool, handler network.StreamHandler) {
	h.Host.SetStreamHandlerMatch(pid, match, h.watch(handler))
}

// watch wraps handler: it reads s through an rpcWatch, and resets s if the
// node stopped before handler returned. Pubsub's handler closes or resets
// its stream on every way out but one: a second inbound stream from a
// peer, arriving while pubsub stops, is left open. The host's connection
// closing resets it, unless it arrived after the connection was torn down
// (mocknet adds an inbound stream to its connection asynchronously); then
// nothing else ever would, and its transport lives on past Close.
func (h pubsubHost) watch(handler network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		handler(&rpcWatch{Stream: s, n: h.n})
		if h.n.ctx.Err() != nil {
			s.Reset()
		}
	}
}

// rpcWatch follows the framing of the RPCs read from a pubsub stream
// (each a uvarint length, then that many bytes) and counts, as rejected
// ReasonRPCTooLarge, an RPC whose length is over maxRPCSize: pubsub's
// reader refuses it and resets the stream. It only watches; the bytes
// pass on unchanged. Read is called by the one goroutine pubsub runs per
// inbound stream.
type rpcWatch struct {
	network.Stream
	n *Node
	// body is how many bytes of the current RPC are still to come; while
	// it is 0, length and shift hold the uvarint read so far.
	body   uint64
	length uint64
	shift  uint
	done   bool // an oversized RPC was counted, or the framing is lost
}

// Read reads from the stream and watches the bytes read.
func (w *rpcWatch) Read(p []byte) (int, error) {
	n, err := w.Stream.Read(p)
	w.watch(p[:n])
	return n, err
}

func (w *rpcWatch) watch(b []byte) {
	for len(b) > 0 && !w.done {
		if w.body > 0 {
			k := min(w.body, uint64(len(b)))
			w.body -= k
			b = b[k:]
			continue
		}
		c := b[0]
		b = b[1:]
		w.length |= uint64(c&0x7f) << w.shift
		if c&0x80 != 0 {
			if w.shift += 7; w.shift >= 64 {
				w.done = true // not a uvarint: pubsub's reader fails on it too
			}
			continue
		}
		if w.length > maxRPCSize {
			w.n.stats.rejected[reasonIndex(ReasonRPCTooLarge)].Add(1)
			w.done = true
		}
		w.body, w.length, w.shift = w.length, 0, 0
	}
}
