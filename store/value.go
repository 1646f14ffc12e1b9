package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/khantara/khantara/protocol"
)

// stateValue is the value of a state record. Layout, version 1:
//
//	version(1)=1 kind(1) seq(8, big endian) hash(32) receivedAt(8, unix ns)
//	len(from)(uvarint) from envelope(rest)
type stateValue struct {
	kind       protocol.Kind
	seq        uint64
	hash       protocol.Hash
	receivedAt time.Time
	from       string
	envelope   []byte
}

// kindCodes are the kinds' codes in a state value: their indexes. Only
// append (stored values hold the codes).
var kindCodes = []protocol.Kind{protocol.KindPractice, protocol.KindRetract, protocol.KindProfile, protocol.KindOrg, protocol.KindMembers, protocol.KindExperience}

func kindCode(k protocol.Kind) byte {
	for i, c := range kindCodes {
		if c == k {
			return byte(i)
		}
	}
	return 0xff
}

func (v *stateValue) encode() []byte {
	b := make([]byte, 0, 50+binary.MaxVarintLen64+len(v.from)+len(v.envelope))
	b = append(b, 1, kindCode(v.kind))
	b = binary.BigEndian.AppendUint64(b, v.seq)
	b = append(b, v.hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(v.receivedAt.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(v.from)))
	b = append(b, v.from...)
	return append(b, v.envelope...)
}

// decodeStateValue decodes b; its envelope aliases b, so a caller inside a
// Badger Value callback must not keep the envelope past the callback.
func decodeStateValue(b []byte) (*stateValue, error) {
	if len(b) < 50 || b[0] != 1 || int(b[1]) >= len(kindCodes) {
		return nil, fmt.Errorf("%w: state value header", ErrCorrupt)
	}
	v := &stateValue{kind: kindCodes[b[1]], seq: binary.BigEndian.Uint64(b[2:])}
	copy(v.hash[:], b[10:42])
	v.receivedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b[42:]))).UTC()
	n, w := binary.Uvarint(b[50:])
	if w <= 0 || uint64(len(b)-50-w) < n {
		return nil, fmt.Errorf("%w: state value sender", ErrCorrupt)
	}
	v.from = string(b[50+w : 50+w+int(n)])
	v.envelope = b[50+w+int(n):]
	return v, nil
}

// rankAbove reports whether announcement (seq, h) beats (seq2, h2) in one
// slot: the higher sequence wins; on equal sequences the lower hash wins.
func rankAbove(seq uint64, h protocol.Hash, seq2 uint64, h2 protocol.Hash) bool {
	if seq != seq2 {
		return seq > seq2
	}
	return string(h[:]) < string(h2[:])
}

// summary is a publisher's derived record. Layout, version 3:
//
//	version(1)=3 practices(8) retracted(8) profiles(8) maxSeq(8) maxSeen(8)
//	equivocations(8) bytes(8) orgOps(8) lists(8) sum(32) updated(8)
//
// maxSeq is the highest sequence in the state; maxSeen the highest ever
// applied (stale ones included), which lets Apply skip the equivocation
// lookup for the usual, growing sequence. bytes sums the envelope sizes
// of the state records. Version 2 lacks orgOps and lists: it is read as
// version 3 with both zero, which it is (no store held organisation
// records before version 3), so no rebuild is needed; it is written back
// as version 3. Version 1 (no bytes) is upgraded by Open's rebuild.
type summary struct {
	practices, retracted, profiles uint64
	maxSeq, maxSeen                uint64
	equivocations                  uint64
	bytes                          uint64
	orgOps, lists                  uint64
	sum                            Accumulator
	updated                        time.Time
}

const (
	summaryLen   = 1 + 8*9 + 32 + 8
	summaryLenV2 = 1 + 8*7 + 32 + 8
)

func (s *summary) encode() []byte {
	b := make([]byte, 0, summaryLen)
	b = append(b, 3)
	for _, n := range s.fields() {
		b = binary.BigEndian.AppendUint64(b, *n)
	}
	b = append(b, s.sum[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(s.updated.UnixNano()))
}

func (s *summary) fields() []*uint64 {
	return []*uint64{&s.practices, &s.retracted, &s.profiles, &s.maxSeq, &s.maxSeen, &s.equivocations, &s.bytes, &s.orgOps, &s.lists}
}

func decodeSummary(b []byte) (summary, error) {
	var s summary
	fs := s.fields()
	switch {
	case len(b) == summaryLen && b[0] == 3:
	case len(b) == summaryLenV2 && b[0] == 2:
		fs = fs[:7]
	default:
		return s, fmt.Errorf("%w: publisher summary", ErrCorrupt)
	}
	for i, f := range fs {
		*f = binary.BigEndian.Uint64(b[1+8*i:])
	}
	off := 1 + 8*len(fs)
	copy(s.sum[:], b[off:off+32])
	s.updated = time.Unix(0, int64(binary.BigEndian.Uint64(b[off+32:]))).UTC()
	return s, nil
}

func (s *summary) count(k protocol.Kind) *uint64 {
	switch k {
	case protocol.KindRetract:
		return &s.retracted
	case protocol.KindProfile:
		return &s.profiles
	case protocol.KindOrg:
		return &s.orgOps
	case protocol.KindMembers:
		return &s.lists
	}
	return &s.practices
}

// add counts a state record of kind k whose envelope has size bytes.
func (s *summary) add(k protocol.Kind, seq uint64, h protocol.Hash, size int) {
	*s.count(k)++
	s.maxSeq = max(s.maxSeq, seq)
	s.sum.Add(h)
	s.bytes += uint64(size)
}

// remove uncounts a state record added with the same kind, hash and size.
func (s *summary) remove(k protocol.Kind, h protocol.Hash, size int) {
	*s.count(k)--
	s.sum.Sub(h)
	s.bytes -= min(s.bytes, uint64(size))
}

func (s *summary) items() uint64 {
	return s.practices + s.retracted + s.profiles + s.orgOps + s.lists
}
