package search

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khantara/khantara/protocol"
)

// rssGoalMB is issue 15's bound on the daemon's peak resident set.
const rssGoalMB = 500

// BenchmarkDaemonPeakRSS measures the peak resident set (VmHWM) of a real
// `khantara daemon` process whose store holds KHANTARA_BENCH_N (default
// 100,000) practices of the benchmark catalogue and whose index directory
// is fresh, so the daemon rebuilds the whole index at start: from start,
// through the rebuild, to a few searches, facets and statistics answered
// after it. The daemon runs with its defaults, so with the soft memory
// limit of memory_limit_mib (daemon.DefaultMemoryLimitMiB). In the same
// run, as baselines: the same daemon with no memory limit
// (--memory-limit-mib 0), the same daemon on an empty store, and the
// size of the store on disk. The store is generated once
// and cached under os.TempDir() (its own directory, not BenchmarkSearch's,
// so the two may run at once); each run copies it into a fresh home.
//
// Metrics: peak-MB (VmHWM), x-goal (peak ÷ 500 MB, the goal is < 1),
// anon-MB and file-MB (the highest anonymous and file-backed resident
// sizes sampled every 50 ms: Go heap and the like, mapped Badger and
// index files), empty-MB (VmHWM of the daemon on an empty store),
// store-MB (the store on disk) and rebuild-s; nolimit-peak-MB,
// nolimit-anon-MB and nolimit-rebuild-s for the daemon without a memory
// limit, and x-nolimit (peak ÷ nolimit-peak).
func BenchmarkDaemonPeakRSS(b *testing.B) {
	n := benchN(b)
	bin := filepath.Join(b.TempDir(), "khantara")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/khantara").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	src := rssStoreDir(n)
	keys := genKeys()
	st := cachedStore(b, src, n, func(i int) (*protocol.Signed, error) {
		a := &protocol.Announcement{V: protocol.Version, Seq: uint64(i/genPublishers + 1),
			Time: testNow.Add(time.Duration(i) * time.Second), Kind: protocol.KindPractice, Practice: genSheet(i)}
		return protocol.Seal(a, keys[i%genPublishers])
	})
	if err := st.Close(); err != nil { // the daemons open copies of it
		b.Fatal(err)
	}
	storeMB := dirMB(b, src)
	b.ResetTimer()
	for range b.N {
		empty := runRSSDaemon(b, bin, "", 0)
		full := runRSSDaemon(b, bin, src, n)
		nolimit := runRSSDaemon(b, bin, src, n, "--memory-limit-mib", "0")
		b.ReportMetric(full.peak, "peak-MB")
		b.ReportMetric(full.peak/rssGoalMB, "x-goal")
		b.ReportMetric(full.anon, "anon-MB")
		b.ReportMetric(full.file, "file-MB")
		b.ReportMetric(full.rebuild.Seconds(), "rebuild-s")
		b.ReportMetric(nolimit.peak, "nolimit-peak-MB")
		b.ReportMetric(nolimit.anon, "nolimit-anon-MB")
		b.ReportMetric(nolimit.rebuild.Seconds(), "nolimit-rebuild-s")
		b.ReportMetric(full.peak/nolimit.peak, "x-nolimit")
		b.ReportMetric(empty.peak, "empty-MB")
		b.ReportMetric(storeMB, "store-MB")
	}
}

// rssStoreDir is where BenchmarkDaemonPeakRSS keeps its store of n practices.
func rssStoreDir(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("khantara-rss-bench-%s-%d", genVersion, n), "store")
}

// rssRun is what one daemon's run measured.
type rssRun struct {
	peak, anon, file float64 // MB
	rebuild          time.Duration
}

// runRSSDaemon starts the daemon in a fresh home holding a copy of the
// store in src ("" for none), waits until its index holds want
// practices, runs searches, reads its VmHWM and stops it. args are
// more flags of the daemon.
func runRSSDaemon(b *testing.B, bin, src string, want int, args ...string) rssRun {
	b.Helper()
	home := b.TempDir()
	if src != "" {
		if out, err := exec.Command("cp", "-a", src, filepath.Join(home, "store")).CombinedOutput(); err != nil {
			b.Fatalf("copy the store: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, append([]string{"daemon", "--home", home, "--listen", "/ip4/127.0.0.1/tcp/0",
		"--api", "127.0.0.1:0", "--mdns=false", "--nat=false", "--log-level", "warn"}, args...)...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if b.Failed() {
			b.Logf("daemon stderr:\n%s", stderr.String())
		}
	}()
	var run rssRun
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { run.anon, run.file = sampleRSS(cmd.Process.Pid, stop) })

	c := &rssClient{home: home, http: &http.Client{Timeout: 30 * time.Second}}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		var st struct {
			Index *Status `json:"index"`
		}
		err := c.get("/api/v1/status", &st)
		if err == nil && st.Index != nil && st.Index.Ready && st.Index.Position >= st.Index.StorePosition {
			var res struct {
				Total int `json:"total"`
			}
			if err := c.get("/api/v1/search?limit=1", &res); err == nil && res.Total >= want {
				break
			}
		}
		select {
		case <-exited:
			b.Fatalf("the daemon exited: %v", cmd.ProcessState)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatal("timed out waiting for the index")
		}
	}
	run.rebuild = time.Since(start)
	for _, q := range []string{"q=integration", "q=lingua+lavoro&country=IT", "dimension=cultural&ongoing=1",
		"q=Sprache&language=de&sort=-year", "q=emploi+jeunes&limit=100", "target_group=women&funding_min=10000"} {
		var res struct {
			Total int `json:"total"`
		}
		if err := c.get("/api/v1/search?"+q, &res); err != nil {
			b.Fatalf("search %s: %v", q, err)
		}
	}
	for _, by := range []string{"dimension", "country"} {
		var res any
		if err := c.get("/api/v1/stats?by="+url.QueryEscape(by), &res); err != nil {
			b.Fatalf("stats by %s: %v", by, err)
		}
	}
	close(stop)
	wg.Wait()
	run.peak = statusMB(b, cmd.Process.Pid, "VmHWM")
	return run
}

// rssClient asks one daemon's API.
type rssClient struct {
	home, addr string
	http       *http.Client
}

func (c *rssClient) get(path string, out any) error {
	if c.addr == "" {
		addr, err := os.ReadFile(filepath.Join(c.home, "api"))
		if err != nil {
			return err
		}
		c.addr = strings.TrimSpace(string(addr))
	}
	resp, err := c.http.Get("http://" + c.addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// sampleRSS polls pid's RssAnon and RssFile every 50 ms until stop is
// closed and returns the highest of each, in MB.
func sampleRSS(pid int, stop <-chan struct{}) (anon, file float64) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st := readStatus(pid)
		anon, file = max(anon, st["RssAnon"]), max(file, st["RssFile"]+st["RssShmem"])
		select {
		case <-stop:
			return anon, file
		case <-tick.C:
		}
	}
}

// readStatus returns the sizes in /proc/pid/status, in MB.
func readStatus(pid int) map[string]float64 {
	out := map[string]float64{}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if v, found := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && found {
			kb, _ := strconv.ParseFloat(v, 64)
			out[k] = kb / 1024
		}
	}
	return out
}

// statusMB returns one size from /proc/pid/status, in MB.
func statusMB(b *testing.B, pid int, key string) float64 {
	v, ok := readStatus(pid)[key]
	if !ok {
		b.Fatalf("no %s in /proc/%d/status", key, pid)
	}
	return v
}

// dirMB returns the size of the files under dir, in MB.
func dirMB(b *testing.B, dir string) float64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return float64(total) / (1 << 20)
}

// lockedBuffer is a strings.Builder safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
