package store

import (
	"errors"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// forgetSuperseded deletes pub's seen-log entries below sequence below
// that stand for records held in no form any more: not state, not
// evidence, not one of the hashes of a recorded equivocation. RemoveWhere
// calls it when it removes a state record at or above below.
//
// Why: a removed record X may have superseded an older record W of the
// same slot, which this store then deleted, keeping only W's hash. A
// replica that never received X (or received it after X lost its
// authority) still holds W as state. Were W's hash remembered here, sync
// would never fetch W back and the two replicas would differ for good;
// forgotten, W is fetched and applied again, and the replicas converge.
// Forgetting other superseded hashes of pub is harmless: if one comes
// back it loses to its slot's state again and is only marked seen.
func (t *writeTx) forgetSuperseded(pub peer.ID, below uint64) error {
	prefix := pubKey(prefixSeen, pub)
	var drop [][]byte
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		seq, h, err := splitSeqKey(item.Key()[len(prefix):])
		if err != nil {
			it.Close()
			return err
		}
		if seq >= below {
			break
		}
		var signer peer.ID
		if err := item.Value(func(v []byte) error { signer = seenSigner(pub, v); return nil }); err != nil {
			it.Close()
			return err
		}
		held := false
		for _, k := range [][]byte{seqKey(prefixSeq, pub, seq, h), seqKey(prefixEvidence, pub, seq, h), equivocationKey(pub, seq, signer)} {
			if _, err := t.txn.Get(k); err == nil {
				held = true
				break
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				it.Close()
				return err
			}
		}
		if !held {
			drop = append(drop, item.KeyCopy(nil))
		}
	}
	it.Close()
	for _, k := range drop {
		if err := t.txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
