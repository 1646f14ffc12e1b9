package store

// releaseEvery is how many bytes of records the store reads or writes
// between two releases of its mapped pages. Badger maps its value log,
// tables and write-ahead log; every page a scan touches (a search-index
// rebuild reads every envelope, a sync session or an export many) stays
// in the process's resident set until the file is unmapped, so without a
// release the resident set grows to the size of the store. Releasing
// costs one read of /proc/self/maps and one madvise per mapped file
// (about a millisecond) and bounds what mapped files add to about this
// much plus readahead.
const releaseEvery = 32 << 20

// faultAround is what one read of a mapped file may add to the resident
// set besides the bytes read: on a page fault the kernel maps the pages
// around it that the page cache holds (64 KiB by default), so a scan of
// records spread over the value log maps far more than it reads.
const faultAround = 64 << 10

// noteMapped counts one read or write of n bytes of Badger's mapped files
// and, each time the count passes a multiple of releaseEvery, drops the
// store's mapped pages from the resident set (ReleaseMapped). One
// release runs at a time; a caller that finds one running goes on.
func (s *Store) noteMapped(n int) {
	n += faultAround
	v := s.mappedIO.Add(int64(n))
	if v/releaseEvery == (v-int64(n))/releaseEvery || !s.releasing.CompareAndSwap(false, true) {
		return
	}
	defer s.releasing.Store(false)
	if _, err := ReleaseMapped(s.dir); err != nil {
		s.cfg.log.Debug("Could not release the store's mapped pages.", "err", err)
	}
}
