package node

import "time"

// The limits of admission: which newcomer gets a slot, and whose session it
// takes when the slots are full (the rules are in admission.go).

// choose applies the limits to a newcomer: ok with no victim when a slot
// is free, ok with a victim to evict, or not ok with the refusal. a.mu is
// held.
func (a *admission) choose(now time.Duration, class admitClass, bucket string) (victim *inboundSession, o admitOutcome, ok bool) {
	if class == classGeneral {
		if !a.take(bucket, now) {
			return nil, refusedRate, false
		}
		if a.perIP[bucket] >= maxGeneralPerIP {
			return a.idlest(now, func(s *inboundSession) bool { return s.class == classGeneral && s.bucket == bucket }, class, refusedPerIP)
		}
		if a.general >= maxGeneralSessions {
			return a.idlest(now, func(s *inboundSession) bool { return s.class == classGeneral }, class, refusedFull)
		}
	}
	if len(a.sessions) >= maxInboundSessions {
		return a.idlest(now, func(s *inboundSession) bool { return s.class <= class }, class, refusedFull)
	}
	return nil, 0, true
}

// idlest picks the session to evict among those that match: any of a lower
// class than the newcomer's, else a stalled one of its class; those that
// have not finished a message first (the earliest admitted of them), then
// the longest idle. Without one it
// refuses with refusal.
func (a *admission) idlest(now time.Duration, match func(*inboundSession) bool, class admitClass, refusal admitOutcome) (*inboundSession, admitOutcome, bool) {
	var best *inboundSession
	// Among sessions that have not finished a message, the one admitted
	// first goes first (not the one idle longest): stallers re-opening
	// at once refresh their idle time with each HELLO, and would push an
	// honest newcomer, still reading its first message, out ahead of them.
	rank := func(s *inboundSession) (admitClass, bool, int64) {
		if !s.proven.Load() {
			return s.class, false, int64(s.since)
		}
		return s.class, true, s.last.Load()
	}
	for s := range a.sessions {
		if !match(s) || s.class == class && !s.stalled(now) {
			continue
		}
		if best == nil {
			best = s
			continue
		}
		c1, p1, l1 := rank(s)
		c2, p2, l2 := rank(best)
		if c1 < c2 || c1 == c2 && (!p1 && p2 || p1 == p2 && l1 < l2) {
			best = s
		}
	}
	switch {
	case best == nil:
		return nil, refusal, false
	case best.class < class:
		return best, evictedLowerClass, true
	case !best.proven.Load():
		return best, evictedNoMessage, true
	default:
		return best, evictedIdle, true
	}
}

// take spends one of bucket's tokens, if it has one. a.mu is held.
func (a *admission) take(bucket string, now time.Duration) bool {
	b := a.rates[bucket]
	if b == nil {
		if len(a.rates) >= maxRateBuckets {
			a.pruneRates(now)
		}
		b = &rateBucket{tokens: generalBurstPerIP, at: now}
		a.rates[bucket] = b
	}
	b.tokens = min(generalBurstPerIP, b.tokens+generalRatePerIP*(now-b.at).Seconds())
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pruneRates forgets addresses whose allowance is full again, or all of
// them if that is not enough. a.mu is held.
func (a *admission) pruneRates(now time.Duration) {
	for k, b := range a.rates {
		if b.tokens+generalRatePerIP*(now-b.at).Seconds() >= generalBurstPerIP {
			delete(a.rates, k)
		}
	}
	if len(a.rates) >= maxRateBuckets {
		clear(a.rates)
	}
}
