package node

import (
	"encoding/binary"
	"testing"
)

// TestRPCWatchFraming feeds rpcWatch streams of RPCs in chunks of every
// size and checks that it counts exactly the first RPC over maxRPCSize,
// whatever the chunking, and nothing on a stream of RPCs within it.
func TestRPCWatchFraming(t *testing.T) {
	frame := func(n int) []byte {
		return append(binary.AppendUvarint(nil, uint64(n)), make([]byte, n)...)
	}
	var within []byte
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, maxRPCSize} {
		within = append(within, frame(n)...)
	}
	// An oversized RPC's body never follows: pubsub resets the stream.
	over := append(append([]byte{}, within...), binary.AppendUvarint(nil, maxRPCSize+1)...)
	over = append(over, frame(5)...)
	for _, tc := range []struct {
		name   string
		stream []byte
		want   uint64
	}{
		{"within the limit", within, 0},
		{"one over it", over, 1},
		{"not a uvarint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 3, 7, 100, 4096, len(tc.stream)} {
				n := &Node{}
				w := &rpcWatch{n: n}
				for b := tc.stream; len(b) > 0; {
					k := min(chunk, len(b))
					w.watch(b[:k])
					b = b[k:]
				}
				if got := n.stats.rejected[reasonIndex(ReasonRPCTooLarge)].Load(); got != tc.want {
					t.Errorf("chunks of %d: %d counted, want %d", chunk, got, tc.want)
				}
			}
		})
	}
}
