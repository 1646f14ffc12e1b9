package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"iter"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// prefixPeer: 'n' peer -> lastSeen(8) then addresses, each uvarint(len) bytes.
// The address book of peers met before, so a restarted node finds the
// network again without its bootstrap list.
const prefixPeer = 'n'

// KnownPeer is a peer this node was connected to, with the addresses it
// was reachable at (binary multiaddrs; the store does not interpret them).
type KnownPeer struct {
	ID       peer.ID
	Addrs    [][]byte
	LastSeen time.Time
}

// RememberPeers records peers and their addresses, replacing what was
// known of each. It is not synced to disk on its own: losing the last few
// seconds of the address book in a crash costs nothing.
func (s *Store) RememberPeers(peers ...KnownPeer) error {
	s.reads.enter()
	defer s.reads.leave()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, p := range peers {
		v := binary.BigEndian.AppendUint64(nil, uint64(p.LastSeen.UnixNano()))
		for _, a := range p.Addrs {
			v = binary.AppendUvarint(v, uint64(len(a)))
			v = append(v, a...)
		}
		if err := wb.Set(pubKey(prefixPeer, p.ID), v); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// ForgetPeer removes a peer from the address book.
func (s *Store) ForgetPeer(id peer.ID) error {
	s.reads.enter()
	defer s.reads.leave()
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(pubKey(prefixPeer, id)) })
}

// KnownPeers returns the address book, in peer order.
func (s *Store) KnownPeers() iter.Seq2[KnownPeer, error] {
	return func(yield func(KnownPeer, error) bool) {
		err := s.view(func(txn *badger.Txn) error {
			prefix := []byte{prefixPeer}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
			defer it.Close()
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				id, _, err := splitPub(it.Item().Key())
				if err != nil {
					return err
				}
				kp := KnownPeer{ID: peer.ID(bytes.Clone([]byte(id)))}
				err = it.Item().Value(func(v []byte) error {
					if len(v) < 8 {
						return fmt.Errorf("%w: peer record of %d bytes", ErrCorrupt, len(v))
					}
					kp.LastSeen = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
					for rest := v[8:]; len(rest) > 0; {
						n, w := binary.Uvarint(rest)
						if w <= 0 || uint64(len(rest)-w) < n {
							return fmt.Errorf("%w: peer record address list", ErrCorrupt)
						}
						kp.Addrs = append(kp.Addrs, bytes.Clone(rest[w:w+int(n)]))
						rest = rest[w+int(n):]
					}
					return nil
				})
				if err != nil {
					return err
				}
				if !yield(kp, nil) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			yield(KnownPeer{}, err)
		}
	}
}
