package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
)

// The compaction's copy (see the purge notes in purge.go): the live keys
// streamed into a fresh Badger directory, their envelopes into fresh
// packs.

// copyLive writes the latest version of every live key into a new Badger
// directory tmp, makes it durable and marks it complete. It returns the
// new directory's lock, held.
func (s *Store) copyLive(tmp string) (io.Closer, error) {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockDir(tmp)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	dst, err := badger.Open(s.badgerOptions(tmp))
	if err != nil {
		return nil, err
	}
	sw := dst.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		dst.Close()
		return nil, err
	}
	// Every envelope of the state moves into the copy's packs, in the
	// order the stream meets it; what nothing points at stays behind.
	repack, err := openPacks(tmp)
	if err != nil {
		dst.Close()
		return nil, err
	}
	defer repack.close()
	if err := s.streamLive(sw, repack); err != nil {
		sw.Cancel()
		dst.Close()
		return nil, err
	}
	if err := sw.Flush(); err != nil {
		dst.Close()
		return nil, err
	}
	if err := repack.flush(); err != nil {
		dst.Close()
		return nil, err
	}
	// The copy has nothing left to purge.
	if err := dst.Update(func(txn *badger.Txn) error { return txn.Delete(metaPurgePending) }); err != nil {
		dst.Close()
		return nil, err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return nil, err
	}
	if err := dst.Close(); err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(tmp, purgedMarker)); err != nil {
		return nil, err
	}
	syncDir(tmp)
	ok = true
	return lock, nil
}

// streamLive streams the latest version of every live key of the store to
// sw, moving each state's envelope into the packs pk on the way.
//
// Two rules of Badger's Stream shape it. Its entries live in memory the
// garbage collector does not scan (the iterator's allocator), so a value
// put in one must be allocated there too: a Go slice referenced only from
// an entry can be freed and reused before the stream serialises it, and
// the copy would then hold other bytes under the key. And the stream logs
// a KeyToList error and skips the key, so the first error is kept here
// and fails the copy rather than leaving a record out of it.
func (s *Store) streamLive(sw *badger.StreamWriter, pk *packs) error {
	var packMu, errMu sync.Mutex
	var failed error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if failed == nil {
			failed = err
		}
	}
	stream := s.db.NewStream()
	stream.LogPrefix = "khantara.compact"
	stream.KeyToList = func(key []byte, itr *badger.Iterator) (*pb.KVList, error) {
		list, err := stream.ToList(key, itr)
		if err != nil {
			fail(fmt.Errorf("read %x: %w", key, err))
			return nil, err
		}
		if len(key) == 0 || key[0] != prefixState {
			return list, nil
		}
		for _, kv := range list.Kv {
			v, err := s.repack(kv.Value, pk, &packMu)
			if err != nil {
				err = fmt.Errorf("state %s: %w", describeStateKey(key), err)
				fail(err)
				return nil, err
			}
			kv.Value = itr.Alloc.Copy(v)
		}
		if testHookRepacked != nil {
			testHookRepacked(list)
		}
		return list, nil
	}
	stream.Send = sw.Write
	if err := stream.Orchestrate(context.Background()); err != nil {
		return err
	}
	errMu.Lock()
	defer errMu.Unlock()
	return failed
}

// testHookRepacked, when a test sets it, sees every list of a state key
// that streamLive hands back to the stream.
var testHookRepacked func(*pb.KVList)

// describeStateKey names a state key in an error: publisher/slot, or the
// key in hex when it does not split.
func describeStateKey(key []byte) string {
	pub, slot, err := splitPub(key)
	if err != nil {
		return fmt.Sprintf("%x", key)
	}
	return pub.String() + "/" + string(slot)
}

// repack moves the envelope of the state value v into the packs pk (of a
// compacted copy; mu serialises the stream's goroutines) and returns the
// value pointing there.
func (s *Store) repack(v []byte, pk *packs, mu *sync.Mutex) ([]byte, error) {
	sv, err := decodeStateValue(v)
	if err != nil {
		return nil, err
	}
	env, err := sv.envelopeIn(s.packs)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if sv.ptr, err = pk.add(env); err != nil {
		return nil, err
	}
	if len(pk.buf) >= packFlushAt {
		if err := pk.write(); err != nil {
			return nil, err
		}
	}
	sv.envelope, sv.packed = nil, true
	return sv.encode(), nil
}
