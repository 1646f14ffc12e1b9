package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/khantara/khantara/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// stateValue is the value of a state record. Layouts:
//
//	version(1)=1 kind(1) seq(8, big endian) hash(32) receivedAt(8, unix ns)
//	len(from)(uvarint) from envelope(rest)
//
//	version(1)=2 kind(1) seq(8) hash(32) receivedAt(8) len(from)(uvarint)
//	from file(4) off(8) size(4) crc32c(4)
//
// Version 1 holds the envelope; version 2 says where in the store's packs
// it is (pack.go).
type stateValue struct {
	kind       protocol.Kind
	seq        uint64
	hash       protocol.Hash
	receivedAt time.Time
	from       string
	envelope   []byte  // version 1; nil in version 2
	ptr        packPtr // version 2 (packed)
	packed     bool
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
	b := make([]byte, 0, 50+binary.MaxVarintLen64+len(v.from)+max(len(v.envelope), packPtrLen))
	version := byte(1)
	if v.packed {
		version = 2
	}
	b = append(b, version, kindCode(v.kind))
	b = binary.BigEndian.AppendUint64(b, v.seq)
	b = append(b, v.hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(v.receivedAt.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(v.from)))
	b = append(b, v.from...)
	if v.packed {
		b = binary.BigEndian.AppendUint32(b, v.ptr.file)
		b = binary.BigEndian.AppendUint64(b, v.ptr.off)
		b = binary.BigEndian.AppendUint32(b, v.ptr.size)
		return binary.BigEndian.AppendUint32(b, v.ptr.crc)
	}
	return append(b, v.envelope...)
}

// decodeStateValue decodes b; an inline envelope aliases b, so a caller
// inside a Badger Value callback must not keep it past the callback.
func decodeStateValue(b []byte) (*stateValue, error) {
	if len(b) < 50 || (b[0] != 1 && b[0] != 2) || int(b[1]) >= len(kindCodes) {
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
	rest := b[50+w+int(n):]
	if b[0] == 1 {
		v.envelope = rest
		return v, nil
	}
	if len(rest) != packPtrLen {
		return nil, fmt.Errorf("%w: state value pack pointer", ErrCorrupt)
	}
	v.packed = true
	v.ptr = packPtr{
		file: binary.BigEndian.Uint32(rest),
		off:  binary.BigEndian.Uint64(rest[4:]),
		size: binary.BigEndian.Uint32(rest[12:]),
		crc:  binary.BigEndian.Uint32(rest[16:]),
	}
	return v, nil
}

// size is the size of v's envelope.
func (v *stateValue) size() int {
	if v.packed {
		return int(v.ptr.size)
	}
	return len(v.envelope)
}

// envelopeIn returns v's envelope: the bytes v holds (aliasing its value,
// see decodeStateValue) or a copy read from pk and checked.
func (v *stateValue) envelopeIn(pk *packs) ([]byte, error) {
	if !v.packed {
		return v.envelope, nil
	}
	return pk.read(v.ptr)
}

// rankAbove reports whether announcement (seq, h) beats (seq2, h2) in one
// slot: the higher sequence wins; on equal sequences the lower hash wins.
func rankAbove(seq uint64, h protocol.Hash, seq2 uint64, h2 protocol.Hash) bool {
	if seq != seq2 {
		return seq > seq2
	}
	return string(h[:]) < string(h2[:])
}

// summary is a publisher's derived record. Layout, version 4:
//
//	version(1)=4 practices(8) retracted(8) profiles(8) maxSeq(8) maxSeen(8)
//	equivocations(8) bytes(8) orgOps(8) lists(8) experiences(8)
//	retractedExperiences(8) v1Count(8) v1MaxSeq(8) sum(32) v1Sum(32)
//	updated(8)
//
// maxSeq is the highest sequence in the state; maxSeen the highest ever
// applied (stale ones included), which lets Apply skip the equivocation
// lookup for the usual, growing sequence. bytes sums the envelope sizes
// of the state records. retracted counts the tombstones of practices,
// retractedExperiences those of experience slots. v1Count, v1MaxSeq and
// v1Sum are the digest of the state records that are v1 records
// (protocol.IsV1), which a sync/1 session reconciles. Earlier versions
// lack the experience counts and the v1 digest: Open upgrades a store of
// schema 2 or 1 by rebuilding every summary, so only version 4 is read.
type summary struct {
	practices, retracted, profiles uint64
	maxSeq, maxSeen                uint64
	equivocations                  uint64
	bytes                          uint64
	orgOps, lists                  uint64
	experiences, retractedExp      uint64
	v1Count, v1MaxSeq              uint64
	sum, v1Sum                     Accumulator
	updated                        time.Time

	// v1Recount is set (in memory only) when a v1 record at v1MaxSeq
	// left the state: the writer recomputes v1MaxSeq before it writes
	// the summary back (writeTx.flushSummaries).
	v1Recount bool
}

const summaryLen = 1 + 8*13 + 32 + 32 + 8

func (s *summary) encode() []byte {
	b := make([]byte, 0, summaryLen)
	b = append(b, 4)
	for _, n := range s.fields() {
		b = binary.BigEndian.AppendUint64(b, *n)
	}
	b = append(b, s.sum[:]...)
	b = append(b, s.v1Sum[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(s.updated.UnixNano()))
}

func (s *summary) fields() []*uint64 {
	return []*uint64{&s.practices, &s.retracted, &s.profiles, &s.maxSeq, &s.maxSeen, &s.equivocations, &s.bytes,
		&s.orgOps, &s.lists, &s.experiences, &s.retractedExp, &s.v1Count, &s.v1MaxSeq}
}

func decodeSummary(b []byte) (summary, error) {
	var s summary
	if len(b) != summaryLen || b[0] != 4 {
		return s, fmt.Errorf("%w: publisher summary", ErrCorrupt)
	}
	fs := s.fields()
	for i, f := range fs {
		*f = binary.BigEndian.Uint64(b[1+8*i:])
	}
	off := 1 + 8*len(fs)
	copy(s.sum[:], b[off:off+32])
	copy(s.v1Sum[:], b[off+32:off+64])
	s.updated = time.Unix(0, int64(binary.BigEndian.Uint64(b[off+64:]))).UTC()
	return s, nil
}

// count is the counter of a state record of kind k in slot.
func (s *summary) count(k protocol.Kind, slot string) *uint64 {
	switch k {
	case protocol.KindRetract:
		if protocol.IsExperienceSlot(slot) {
			return &s.retractedExp
		}
		return &s.retracted
	case protocol.KindProfile:
		return &s.profiles
	case protocol.KindOrg:
		return &s.orgOps
	case protocol.KindMembers:
		return &s.lists
	case protocol.KindExperience:
		return &s.experiences
	}
	return &s.practices
}

// add counts a state record of kind k in slot whose envelope has size
// bytes; v1 says whether it is a v1 record.
func (s *summary) add(k protocol.Kind, slot string, v1 bool, seq uint64, h protocol.Hash, size int) {
	*s.count(k, slot)++
	s.maxSeq = max(s.maxSeq, seq)
	s.sum.Add(h)
	s.bytes += uint64(size)
	if v1 {
		s.v1Count++
		s.v1MaxSeq = max(s.v1MaxSeq, seq)
		s.v1Sum.Add(h)
	}
}

// remove uncounts a state record added with the same kind, slot, v1 flag,
// sequence, hash and size.
func (s *summary) remove(k protocol.Kind, slot string, v1 bool, seq uint64, h protocol.Hash, size int) {
	*s.count(k, slot)--
	s.sum.Sub(h)
	s.bytes -= min(s.bytes, uint64(size))
	if v1 {
		s.v1Count--
		s.v1Sum.Sub(h)
		if seq >= s.v1MaxSeq {
			s.v1Recount = true
		}
	}
}

func (s *summary) items() uint64 {
	return s.practices + s.retracted + s.profiles + s.orgOps + s.lists + s.experiences + s.retractedExp
}

// lastV1Seq returns the highest sequence of pub's v1 state records (0
// when there is none), from the sequence index as txn sees it, its own
// writes included. It runs when a v1 record at the highest v1 sequence
// leaves the state, which is rare (a removal, or a v1 record superseded
// by a v2 one), and reads from the top down.
func lastV1Seq(txn *badger.Txn, pub peer.ID) (uint64, error) {
	prefix := pubKey(prefixSeq, pub)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true, PrefetchValues: true})
	defer it.Close()
	for it.Seek(append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 41)...)); it.ValidForPrefix(prefix); it.Next() {
		var v1 bool
		if err := it.Item().Value(func(v []byte) (err error) { _, v1, _, err = splitSeqValueV1(v); return }); err != nil {
			return 0, err
		}
		if v1 {
			seq, _, err := splitSeqKey(it.Item().Key()[len(prefix):])
			return seq, err
		}
	}
	return 0, nil
}
