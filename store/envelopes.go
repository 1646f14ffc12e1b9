package store

import (
	"cmp"
	"errors"
	"slices"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// EnvelopeRef names an envelope as Envelope takes it: the state record or
// equivocation evidence (Publisher, Seq) whose hash starts with Prefix.
type EnvelopeRef struct {
	Publisher peer.ID
	Seq       uint64
	Prefix    []byte
}

// Envelopes reads refs a chunk at a time, in one read transaction: at
// most envelopesChunk of them, and no more once the chunk's envelopes
// reach envelopesChunkBytes, so a session serving the largest envelopes
// holds about a megabyte of them at a time.
const (
	envelopesChunk      = 256
	envelopesChunkBytes = 1 << 20
)

// Adjacent packed envelopes are read with one pread of at most
// maxPackRun bytes; a gap of up to maxPackGap bytes between two of them
// is read and dropped, which costs less than a second system call.
const (
	maxPackRun = 1 << 20
	maxPackGap = 16 << 10
)

// Envelope returns the stored envelope of the state record or evidence
// (pub, seq) whose hash starts with prefix, or ErrNotFound when none
// matches (it may have been superseded). This is what sync serves: any
// node hands out any publisher's signed announcements. Envelopes serves
// many for far less each.
func (s *Store) Envelope(pub peer.ID, seq uint64, prefix []byte) ([]byte, error) {
	var env []byte
	err := s.Envelopes([]EnvelopeRef{{Publisher: pub, Seq: seq, Prefix: prefix}}, func(_ int, e []byte) error {
		env = e
		return nil
	})
	if err == nil && env == nil {
		err = ErrNotFound
	}
	return env, err
}

// Envelopes calls fn, in the order of refs, with the index and the stored
// envelope of each ref that names one held here, as Envelope finds it;
// a ref that names none (superseded since, or never held) is skipped. It
// reads refs a chunk at a time: one read transaction for the chunk, then
// the packed envelopes in file order, adjacent ones with one pread. No
// read is in progress while fn runs, so fn may take its time (write to a
// peer); fn may keep env. An error from fn ends the call and is returned.
func (s *Store) Envelopes(refs []EnvelopeRef, fn func(i int, env []byte) error) error {
	for start := 0; start < len(refs); {
		envs, err := s.readEnvelopes(refs[start:min(len(refs), start+envelopesChunk)], envelopesChunkBytes)
		if err != nil {
			return err
		}
		for i, env := range envs {
			if env == nil {
				continue
			}
			if err := fn(start+i, env); err != nil {
				return err
			}
		}
		start += len(envs)
	}
	return nil
}

// packedAt is the pack pointer of the envelope of refs[i].
type packedAt struct {
	i   int
	ptr packPtr
}

// readEnvelopes returns the envelopes a prefix of refs names, nil for
// those not held: the first ref, and the next ones while the envelopes
// found stay under maxBytes. It holds a read (s.reads)
// throughout, so that a compaction cannot remove a pack between the
// transaction that points into it and its read.
func (s *Store) readEnvelopes(refs []EnvelopeRef, maxBytes int) ([][]byte, error) {
	s.reads.enter()
	defer s.reads.leave()
	envs := make([][]byte, 0, len(refs))
	var packed []packedAt
	mapped := 0 // bytes read from Badger's mapped files
	size := 0   // bytes of the envelopes found
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		var eit *badger.Iterator // evidence, opened when first needed
		defer func() {
			if eit != nil {
				eit.Close()
			}
		}()
		for i, r := range refs {
			if size >= maxBytes {
				break
			}
			envs = append(envs, nil)
			p := append(seqPrefix(prefixSeq, r.Publisher, r.Seq), r.Prefix...)
			if it.Seek(p); it.ValidForPrefix(p) {
				sv, err := stateBySeq(txn, it.Item(), r.Publisher)
				if err != nil {
					return err
				}
				if sv.packed {
					packed = append(packed, packedAt{i, sv.ptr})
					size += int(sv.ptr.size)
				} else {
					envs[i] = sv.envelope // in stateBySeq's copy of the value
					mapped += len(sv.envelope)
					size += len(sv.envelope)
				}
				continue
			}
			// Not state: perhaps equivocation evidence.
			if eit == nil {
				eit = txn.NewIterator(badger.IteratorOptions{})
			}
			ep := append(seqPrefix(prefixEvidence, r.Publisher, r.Seq), r.Prefix...)
			if eit.Seek(ep); eit.ValidForPrefix(ep) {
				env, err := eit.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				envs[i] = env
				mapped += len(env)
				size += len(env)
			}
		}
		return nil
	})
	s.noteMapped(mapped)
	if err != nil {
		return nil, err
	}
	return envs, s.packs.readRuns(packed, envs)
}

// stateBySeq reads the state value that the sequence-index entry seq
// points at, under publisher pub, from a copy of the stored value (an
// inline envelope in it is the caller's to keep).
func stateBySeq(txn *badger.Txn, seq *badger.Item, pub peer.ID) (*stateValue, error) {
	qv, err := seq.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	_, slot, err := splitSeqValue(qv)
	if err != nil {
		return nil, err
	}
	item, err := txn.Get(stateKey(pub, slot))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, errors.Join(ErrCorrupt, errors.New("sequence index names a missing state record"))
	}
	if err != nil {
		return nil, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	return decodeStateValue(v)
}

// readRuns reads the envelopes at
// the pointers of at into envs (at[k].i indexes envs), in file order, one
// pread for each run of envelopes that lie close together, and checks
// each one's checksum as read does.
func (p *packs) readRuns(at []packedAt, envs [][]byte) error {
	slices.SortFunc(at, func(a, b packedAt) int {
		return cmp.Or(cmp.Compare(a.ptr.file, b.ptr.file), cmp.Compare(a.ptr.off, b.ptr.off))
	})
	for len(at) > 0 {
		n, end := 1, at[0].ptr.off+uint64(at[0].ptr.size)
		for ; n < len(at); n++ {
			q := at[n].ptr
			next := max(end, q.off+uint64(q.size))
			if q.file != at[0].ptr.file || q.off > end+maxPackGap || next-at[0].ptr.off > maxPackRun {
				break
			}
			end = next
		}
		if err := p.readRun(at[:n], end, envs); err != nil {
			return err
		}
		at = at[n:]
	}
	return nil
}

// readRun reads one run: the bytes of run[0]'s pack from run[0]'s offset
// to end, and each envelope of run out of them.
func (p *packs) readRun(run []packedAt, end uint64, envs [][]byte) error {
	first := run[0].ptr
	if len(run) == 1 {
		env, err := p.read(first)
		envs[run[0].i] = env
		return err
	}
	for _, r := range run {
		if err := r.ptr.checkSize(); err != nil {
			return err
		}
	}
	f, err := p.file(first.file)
	if err != nil {
		return err
	}
	buf := make([]byte, end-first.off)
	if _, err := f.ReadAt(buf, int64(first.off)); err != nil {
		// Read them one by one, for the error of the one that fails.
		for _, r := range run {
			if envs[r.i], err = p.read(r.ptr); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range run {
		start := r.ptr.off - first.off
		env := buf[start : start+uint64(r.ptr.size) : start+uint64(r.ptr.size)]
		if err := r.ptr.checkSum(env); err != nil {
			return err
		}
		envs[r.i] = env
	}
	return nil
}
