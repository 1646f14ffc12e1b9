package api

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/khantara/khantara/node"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func (a *apiHandler) status(w http.ResponseWriter, r *http.Request) {
	c, d, err := a.n.Store().Counts()
	if err != nil {
		a.internal(w, "count the catalogue", err)
		return
	}
	fp := d.Fingerprint()
	stats := a.n.Stats()
	st := Status{
		PeerID:        a.n.ID().String(),
		Network:       a.n.Config().Network,
		Addrs:         []string{},
		Organisation:  a.organisation(a.self()),
		Peers:         len(a.n.Host().Network().Peers()),
		Practices:     c.Practices,
		Retracted:     c.Retracted,
		Profiles:      c.Profiles,
		Publishers:    c.Publishers,
		Equivocations: c.Equivocations,
		Digest:        hex.EncodeToString(fp[:]),
		StartedAt:     a.n.Started(),
		Gossip:        Gossip{Accepted: stats.Accepted, Rejected: stats.Rejected, Ignored: stats.Ignored},
		Syncs:         []Sync{},
		Disk:          diskOf(a.n),
		Reach:         reachOf(a.n.ReachStatus()),
	}
	st.Trust = a.n.Config().Trust.Mode
	if st.Trust == "" {
		st.Trust = node.TrustOpen
	}
	if org := a.n.Org(); org != "" {
		st.Org = org.String()
		c, err := a.n.Chain(org)
		if err != nil {
			a.internal(w, "read the organisation's chain", err)
			return
		}
		ks := c.Status(a.n.ID())
		st.OrgName, st.OrgKey = c.Name(), ks.Role.String()
		for _, k := range ks.May {
			st.OrgMay = append(st.OrgMay, string(k))
		}
	}
	if ix := a.n.Search(); ix != nil {
		is := ix.Status()
		st.Index = &is
	}
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: a.n.ID(), Addrs: a.n.Host().Addrs()})
	for _, m := range addrs {
		st.Addrs = append(st.Addrs, m.String())
	}
	syncs := a.n.SyncStatus()
	slices.SortStableFunc(syncs, func(x, y node.PeerSync) int { return y.At.Compare(x.At) })
	for _, ps := range syncs {
		st.Syncs = append(st.Syncs, syncOf(ps))
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *apiHandler) peers(w http.ResponseWriter, r *http.Request) {
	last := map[peer.ID]node.PeerSync{}
	for _, ps := range a.n.SyncStatus() {
		last[ps.Peer] = ps
	}
	scores := a.n.PeerScores()
	out := []Peer{}
	for _, p := range a.n.Host().Network().Peers() {
		conns := a.n.Host().Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue // disconnected since Peers was read
		}
		oldest := slices.MinFunc(conns, func(x, y network.Conn) int { return x.Stat().Opened.Compare(y.Stat().Opened) })
		ap := Peer{
			ID:           p.String(),
			Addrs:        []string{},
			Direction:    strings.ToLower(oldest.Stat().Direction.String()),
			Since:        oldest.Stat().Opened.UTC(),
			Score:        scores[p],
			Organisation: a.organisation(p),
		}
		for _, c := range conns {
			if m := c.RemoteMultiaddr().String(); !slices.Contains(ap.Addrs, m) {
				ap.Addrs = append(ap.Addrs, m)
			}
		}
		if ps, ok := last[p]; ok {
			s := syncOf(ps)
			ap.LastSync = &s
		}
		out = append(out, ap)
	}
	slices.SortFunc(out, func(x, y Peer) int { return strings.Compare(x.ID, y.ID) })
	writeJSON(w, http.StatusOK, out)
}

func syncOf(ps node.PeerSync) Sync {
	return Sync{
		Peer: ps.Peer.String(), At: ps.At.UTC(),
		Fetched: ps.Result.Fetched, Applied: ps.Result.Applied, Served: ps.Result.Served,
		BytesSent: ps.Result.Sent, BytesReceived: ps.Result.Received,
		Seconds: ps.Result.Duration.Seconds(), Error: ps.Err,
	}
}

// diskOf is the status's disk section, nil when no monitor runs.
func diskOf(n *node.Node) *Disk {
	d := n.Disk()
	if !d.Watched {
		return nil
	}
	out := &Disk{Dir: d.Dir, FreeBytes: d.Free, ReserveBytes: d.Reserve, WritesPaused: d.Paused}
	if d.Paused {
		out.PausedSince = &d.PausedSince
	}
	return out
}
