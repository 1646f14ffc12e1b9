package node

import (
	"errors"
	"sync"
	"time"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Quota bounds what one publisher may take of this node's replica in open
// trust mode, so an anonymous key cannot fill it. This node's own
// publications and the publishers on trust.allow are exempt; in allowlist
// mode quotas do not apply. An announcement over quota is ignored (gossip)
// or skipped (sync), never held against the peer that relayed it; it can
// arrive again once the publisher is under quota. A zero field means no
// limit.
type Quota struct {
	// Records bounds the state records (practices, retractions, the
	// tombstones of experience slots included, and the profile) held per
	// publisher; live experience records count against Experiences
	// instead. An update of a slot already held is always taken. Default
	// 5,000: the largest real catalogues (a national network's members)
	// hold a few hundred practices each.
	Records int `yaml:"records"`
	// Megabytes bounds the envelope bytes held per publisher, in MiB.
	// Default 64: 5,000 sheets of about 13 KiB, far above the typical
	// 3-5 KiB.
	Megabytes int `yaml:"megabytes"`
	// PerHour bounds the announcements accepted per publisher per hour,
	// as a token bucket that holds one hour's worth, so a first import of
	// a whole catalogue passes at once. Default 1,000: LRAs publish a few
	// a day.
	PerHour int `yaml:"per_hour"`
	// Experiences bounds the live experience slots held per publisher
	// (PROTOCOL.md 13.4): slots whose state is an experience record. An
	// update of a slot already held is always taken; a record that would
	// open a slot beyond the bound is ignored. Default 1,000, so 10,000
	// endorsements from one key cost at most 1,000 slots.
	Experiences int `yaml:"experiences"`
}

// DefaultQuota returns the defaults documented on Quota.
func DefaultQuota() Quota {
	return Quota{Records: 5000, Megabytes: 64, PerHour: 1000, Experiences: 1000}
}

// maxBuckets bounds the publishers whose rate is tracked; past it, full
// buckets (which say nothing a fresh bucket would not) are forgotten.
const maxBuckets = 65536

// quotas enforces Quota. Safe for concurrent use.
type quotas struct {
	q      Quota
	self   peer.ID
	policy *policy
	st     *store.Store
	now    func() time.Time

	mu      sync.Mutex // guards buckets
	buckets map[peer.ID]*rate.Limiter
}

func newQuotas(q Quota, self peer.ID, p *policy, st *store.Store, now func() time.Time) *quotas {
	return &quotas{q: q, self: self, policy: p, st: st, now: now, buckets: map[peer.ID]*rate.Limiter{}}
}

func (qs *quotas) exempt(pub peer.ID) bool {
	r := qs.policy.load()
	return pub == qs.self || r.own[pub] || r.selective() || r.allow[pub]
}

// quotaHeld is what a publisher holds here, as far as a quota check knows.
type quotaHeld struct {
	records, experiences, bytes uint64
}

// admit reports whether an announcement sg of its publisher for its slot,
// of size bytes, is within quota. take consumes a token of the hourly
// rate (the store path); without it admit only looks (the gossip
// validator, which must not charge a message twice). batch, when not nil,
// carries what earlier items of the same batch will add, since the store
// has not counted them yet; admit updates it. prior, when not nil, is what
// the store holds of the publisher and ann's slot (store.Lookup), and
// admit asks the store nothing.
func (qs *quotas) admit(sg *protocol.Signed, size int, take bool, batch map[peer.ID]*quotaHeld, prior *store.Prior) (bool, error) {
	pub := sg.Announcement().Publisher
	if qs.exempt(pub) {
		return true, nil
	}
	if qs.q.PerHour > 0 && !qs.rate(pub, take) {
		return false, nil
	}
	if qs.q.Records <= 0 && qs.q.Megabytes <= 0 && qs.q.Experiences <= 0 {
		return true, nil
	}
	h := batch[pub]
	if h == nil {
		h = &quotaHeld{}
		sum, err := qs.summary(pub, prior)
		switch {
		case err == nil:
			h.records = sum.Practices + sum.Retracted + sum.Profiles + sum.RetractedExperiences
			h.experiences, h.bytes = sum.Experiences, sum.Bytes
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
		if batch != nil {
			batch[pub] = h
		}
	}
	// An experience record counts against the live experience slots,
	// every other record against the records.
	exp := sg.Announcement().Kind == protocol.KindExperience
	count, bound := &h.records, qs.q.Records
	if exp {
		count, bound = &h.experiences, qs.q.Experiences
	}
	limit := uint64(qs.q.Megabytes) << 20
	countFull := bound > 0 && *count >= uint64(bound)
	bytesFull := qs.q.Megabytes > 0 && h.bytes+uint64(size) > limit
	if !countFull && !bytesFull {
		// Counted as a new record: an update overcounts, which only
		// makes the rest of the batch stricter.
		*count++
		h.bytes += uint64(size)
		return true, nil
	}
	// Full: only an update of a slot already held, which replaces a
	// record rather than adding one, is taken; held bytes may then exceed
	// the limit by at most one envelope. At the experience bound, the slot
	// must hold an experience record: a tombstone is no live slot.
	if bytesFull && h.bytes > limit+protocol.MaxEnvelopeSize {
		return false, nil
	}
	var head store.Head
	held := false
	if prior != nil {
		head, held = prior.Head()
	} else {
		var err error
		head, err = qs.st.Head(pub, sg.Slot())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		held = err == nil
	}
	return held && (!exp || !countFull || head.Kind == protocol.KindExperience), nil
}

// summary returns pub's summary from prior, or from the store when prior
// is nil.
func (qs *quotas) summary(pub peer.ID, prior *store.Prior) (store.Publisher, error) {
	if prior == nil {
		return qs.st.PublisherSummary(pub)
	}
	if sum, ok := prior.Publisher(); ok {
		return sum, nil
	}
	return store.Publisher{}, store.ErrNotFound
}

func (qs *quotas) rate(pub peer.ID, take bool) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	l := qs.buckets[pub]
	now := qs.now()
	if l == nil {
		if len(qs.buckets) >= maxBuckets {
			qs.forgetFull(now)
		}
		l = rate.NewLimiter(rate.Limit(float64(qs.q.PerHour)/3600), qs.q.PerHour)
		qs.buckets[pub] = l
	}
	if take {
		return l.AllowN(now, 1)
	}
	return l.TokensAt(now) >= 1
}

// forgetFull drops the buckets that have refilled. The caller holds mu.
func (qs *quotas) forgetFull(now time.Time) {
	for p, l := range qs.buckets {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(qs.buckets, p)
		}
	}
}
