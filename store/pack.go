package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/khantara/khantara/protocol"
)

// Packs. The envelopes of the announcements the store keeps are not kept
// in Badger but in pack files beside it (DIR/packs/NNNNNNNN.pack),
// and their state values hold where (packPtr). Badger writes a value
// through its memory-mapped value log, and its fsync is an msync of that
// mapping; on the machines measured, the two cost about 50 us of CPU per
// envelope, ten times a plain file's write and fdatasync of the same bytes
// (BenchmarkIngest's keep and append rows).
//
// Order makes them crash-safe: the writer writes a transaction's
// envelopes to the current pack before it commits the transaction and,
// when a caller waits for the fsync (Apply), fdatasyncs the pack first,
// so no state value that Badger could bring back after a crash points
// past what the pack holds on disk. ApplyCommitted is answered before any
// fsync: its envelopes are written (the page cache holds them if the
// process dies) and the syncer fdatasyncs the pack before Badger's fsync.
// A power cut before that may keep a state value and not its envelope;
// Open finds such records and removes them, so that sync fetches them
// again (tail.go). A crash between a write and its commit leaves bytes in
// the pack that nothing points at; Compact drops them. A read checks each
// envelope against the CRC-32C its pointer carries.
//
// Stores written before gossip went to the packs hold ApplyCommitted's
// envelopes inline in Badger (state value version 1); they read as
// before, and Compact moves every envelope it copies into fresh packs,
// inline ones included.

// packDir is the packs' directory inside the store's.
const packDir = "packs"

// packLimit is the size past which the writer starts a new pack.
const packLimit = 64 << 20

// packFlushAt is how many buffered bytes Compact's writer lets gather
// before it writes them out (the store's writer writes once per
// transaction).
const packFlushAt = 4 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// packPtr says where an envelope is: pack file, offset, size and the
// CRC-32C of its bytes. Encoded, big endian: file(4) off(8) size(4) crc(4).
type packPtr struct {
	file uint32
	off  uint64
	size uint32
	crc  uint32
}

const packPtrLen = 20

// packName is the file name of pack id.
func packName(id uint32) string { return fmt.Sprintf("%08d.pack", id) }

// packs reads and appends the pack files of one store directory. Reads
// are safe for concurrent use; appends (add, flush, discard) belong to
// one goroutine at a time (the store's writer, or Compact's copy under
// its own lock).
type packs struct {
	dir string

	mu    sync.Mutex
	files map[uint32]*os.File // read handles, opened on first use

	// wmu guards w against the syncer (syncDeferred) while rotate
	// replaces it; the appending goroutine reads w without it.
	wmu    sync.Mutex
	w      *os.File // the pack appended to; nil until the first append
	wid    uint32   // its id (0: none yet)
	woff   int64    // its length as written
	buf    []byte   // envelopes added since the last flush, for w at woff
	broken bool     // a write or fdatasync of w failed: start a new pack
	// unsynced: writeDeferred wrote to w since its last fdatasync;
	// syncFailed: syncDeferred's fdatasync failed, so start a new pack.
	unsynced, syncFailed atomic.Bool

	// sync makes a pack durable: fdatasync, or a test's failure.
	sync func(*os.File) error
}

// openPacks opens the packs of the store in dir, reading only their
// names: the next append goes to a new pack after the highest.
func openPacks(dir string) (*packs, error) {
	p := &packs{dir: filepath.Join(dir, packDir), files: map[uint32]*os.File{}, sync: fdatasync}
	ents, err := os.ReadDir(p.dir)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read packs: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".pack")
		if !ok {
			continue
		}
		if id, err := strconv.ParseUint(name, 10, 32); err == nil {
			p.wid = max(p.wid, uint32(id))
		}
	}
	return p, nil
}

// add buffers env for the next flush and returns where it will be. When
// the current pack is full (or broken), what is buffered is written and
// fdatasynced first and a new pack started.
func (p *packs) add(env []byte) (packPtr, error) {
	if p.w == nil || p.broken || p.syncFailed.Load() || (p.woff+int64(len(p.buf)) >= packLimit) {
		if err := p.rotate(); err != nil {
			return packPtr{}, err
		}
	}
	ptr := packPtr{file: p.wid, off: uint64(p.woff) + uint64(len(p.buf)), size: uint32(len(env)), crc: crc32.Checksum(env, castagnoli)}
	p.buf = append(p.buf, env...)
	return ptr, nil
}

// rotate makes what is buffered, and what writeDeferred wrote, durable in
// the current pack and starts the next one, with its directory entry
// durable too.
func (p *packs) rotate() error {
	if err := p.flush(); err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.w != nil && !p.broken && !p.syncFailed.Load() && p.unsynced.Swap(false) {
		if err := p.sync(p.w); err != nil {
			p.broken = true
			return packErr("sync pack", err)
		}
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return packErr("create pack directory", err)
	}
	id := p.wid + 1
	f, err := os.OpenFile(filepath.Join(p.dir, packName(id)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return packErr("create pack", err)
	}
	syncDir(p.dir)
	syncDir(filepath.Dir(p.dir))
	if p.w != nil {
		// Its data is synced (or the pack is broken and abandoned), so
		// a close error changes nothing.
		_ = p.w.Close()
	}
	p.w, p.wid, p.woff, p.broken = f, id, 0, false
	p.syncFailed.Store(false)
	return nil
}

// write writes what is buffered to the current pack, without syncing.
func (p *packs) write() error {
	if len(p.buf) == 0 {
		return nil
	}
	n, err := p.w.WriteAt(p.buf, p.woff)
	if err != nil {
		p.buf, p.broken = p.buf[:0], true
		return packErr("write pack", err)
	}
	p.woff += int64(n)
	p.buf = p.buf[:0]
	return nil
}

// flush writes what is buffered and fdatasyncs the current pack. After a
// failure the pack is never appended to again (what a failed fdatasync
// left on disk is unknown), and the envelopes buffered are dropped: the
// caller must not commit pointers to them.
func (p *packs) flush() error {
	if len(p.buf) == 0 { // add opens a pack before it buffers anything
		return nil
	}
	if err := p.write(); err != nil {
		return err
	}
	if err := p.sync(p.w); err != nil {
		p.broken = true
		return packErr("sync pack", err)
	}
	p.unsynced.Store(false) // the fdatasync covered what writeDeferred wrote
	return nil
}

// writeDeferred writes what is buffered to the current pack and leaves
// its fdatasync to syncDeferred (ApplyCommitted's envelopes: the store's
// syncer makes them durable with the rest of the store, and Open removes
// what a power cut left half on disk, tail.go).
func (p *packs) writeDeferred() error {
	if len(p.buf) == 0 {
		return nil
	}
	if err := p.write(); err != nil {
		return err
	}
	p.unsynced.Store(true)
	return nil
}

// syncDeferred fdatasyncs the current pack if writeDeferred wrote to it
// since its last fdatasync. The store's syncer calls it, concurrently with
// the appending goroutine, before Badger's fsync: every envelope written
// before the call is then on disk. After a failure the appending goroutine
// starts a new pack.
func (p *packs) syncDeferred() error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.w == nil || !p.unsynced.Swap(false) {
		return nil
	}
	if err := p.sync(p.w); err != nil {
		p.syncFailed.Store(true)
		return packErr("sync pack", err)
	}
	return nil
}

// discard drops what is buffered (its transaction was not committed).
func (p *packs) discard() { p.buf = p.buf[:0] }

// packErr wraps err from op, as ErrNoSpace when the disk is full.
func packErr(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %s: %v", ErrNoSpace, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// read returns a copy of the envelope at ptr, checked against its CRC.
func (p *packs) read(ptr packPtr) ([]byte, error) {
	if err := ptr.checkSize(); err != nil {
		return nil, err
	}
	f, err := p.file(ptr.file)
	if err != nil {
		return nil, err
	}
	b := make([]byte, ptr.size)
	if _, err := f.ReadAt(b, int64(ptr.off)); err != nil {
		return nil, fmt.Errorf("%w: pack %s at %d: %v", ErrCorrupt, packName(ptr.file), ptr.off, err)
	}
	if err := ptr.checkSum(b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkSize refuses a pointer to more than an envelope can hold, before
// anything is read or allocated.
func (ptr packPtr) checkSize() error {
	if ptr.size > protocol.MaxEnvelopeSize {
		return fmt.Errorf("%w: pack %s at %d: a pointer to %d bytes", ErrCorrupt, packName(ptr.file), ptr.off, ptr.size)
	}
	return nil
}

// checkSum checks b, read at ptr, against ptr's CRC.
func (ptr packPtr) checkSum(b []byte) error {
	if crc32.Checksum(b, castagnoli) != ptr.crc {
		return fmt.Errorf("%w: pack %s at %d: checksum mismatch", ErrCorrupt, packName(ptr.file), ptr.off)
	}
	return nil
}

// readOwn is read for the goroutine that appends: an envelope added since
// the last flush (by the transaction it is building) comes from the
// buffer.
func (p *packs) readOwn(ptr packPtr) ([]byte, error) {
	if p.w != nil && ptr.file == p.wid && int64(ptr.off) >= p.woff {
		start := int64(ptr.off) - p.woff
		if end := start + int64(ptr.size); end <= int64(len(p.buf)) {
			return bytes.Clone(p.buf[start:end]), nil
		}
		return nil, fmt.Errorf("%w: pack %s at %d: beyond what is written", ErrCorrupt, packName(ptr.file), ptr.off)
	}
	return p.read(ptr)
}

// file returns the read handle of pack id.
func (p *packs) file(id uint32) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.files[id]; f != nil {
		return f, nil
	}
	f, err := os.Open(filepath.Join(p.dir, packName(id)))
	if err != nil {
		return nil, fmt.Errorf("%w: pack %s: %v", ErrCorrupt, packName(id), err)
	}
	p.files[id] = f
	return f, nil
}

// close closes every file; p is not used again.
func (p *packs) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, f := range p.files {
		errs = append(errs, f.Close())
	}
	clear(p.files)
	if p.w != nil {
		p.wmu.Lock()
		errs = append(errs, p.w.Close())
		p.w = nil
		p.wmu.Unlock()
	}
	return errors.Join(errs...)
}
