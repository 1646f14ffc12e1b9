package node

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The worked example of PROTOCOL.md 11.3: publishers X and A of 11.2,
// records Xn and An whose hashes are SHA-256 of the letter and the byte n.
var (
	vecX = vecPub("0024080112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
	vecA = vecPub("002408011220ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c")
)

func vecPub(h string) peer.ID {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return peer.ID(b)
}

func vecKey(letter string, p peer.ID, n uint64) store.Key {
	return store.Key{Publisher: p, Seq: n, Hash: sha256.Sum256(append([]byte(letter), byte(n)))}
}

// sync3VectorMessages runs the example: I holds X1-X20 but X13, and A1,
// A2; R holds X1-X20 but X5, and A1-A3; the salt is 01 ... 08. It returns
// each message as "from name hex", envelope frames left out.
func sync3VectorMessages(t *testing.T) []string {
	t.Helper()
	var i, r []store.Key
	for n := uint64(1); n <= 20; n++ {
		if n != 13 {
			i = append(i, vecKey("X", vecX, n))
		}
		if n != 5 {
			r = append(r, vecKey("X", vecX, n))
		}
	}
	for n := uint64(1); n <= 3; n++ {
		if n < 3 {
			i = append(i, vecKey("A", vecA, n))
		}
		r = append(r, vecKey("A", vecA, n))
	}
	return vectorMessages(t, i, r, false)
}

// vectorMessages runs a session of the reference's reconciliation, on
// sync/3 or with v4 on sync/4, from i to r with salt 01 ... 08, and returns
// each message as "from name hex", envelope frames left out.
func vectorMessages(t *testing.T, i, r []store.Key, v4 bool) []string {
	t.Helper()
	salt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var log [][]byte
	si, sr := newMemSide(i, true, salt), newMemSide(r, true, salt)
	si.envSize, sr.envSize = 0, 0
	si.log, sr.log = &log, &log
	si.v4, sr.v4 = v4, v4
	if _, err := memSessionWith(si, sr, true, salt); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k, m := range log {
		from, name := "I→R", "HELLO"
		if k%2 == 1 {
			from = "R→I"
		}
		if k >= 2 {
			name = fmt.Sprintf("M%d", k-1)
		}
		out = append(out, from+" "+name+" "+hex.EncodeToString(m))
	}
	return out
}

// TestSync3Vector checks the bytes of PROTOCOL.md 11.3 against a session
// of the reference's reconciliation between the example's replicas.
func TestSync3Vector(t *testing.T) {
	checkVector(t, "sync3-vector", sync3VectorMessages(t))
}

// TestSync4Vector checks the bytes of PROTOCOL.md 11.4: I holds X1-X20
// and A1, A2; R holds X1-X20 but X13, and A1-A3; on sync/4.
func TestSync4Vector(t *testing.T) {
	var i, r []store.Key
	for n := uint64(1); n <= 20; n++ {
		i = append(i, vecKey("X", vecX, n))
		if n != 13 {
			r = append(r, vecKey("X", vecX, n))
		}
	}
	for n := uint64(1); n <= 3; n++ {
		if n < 3 {
			i = append(i, vecKey("A", vecA, n))
		}
		r = append(r, vecKey("A", vecA, n))
	}
	checkVector(t, "sync4-vector", vectorMessages(t, i, r, true))
}

// checkVector compares the messages of a session with the block of
// PROTOCOL.md fenced as "```text name".
func checkVector(t *testing.T, name string, got []string) {
	t.Helper()
	f, err := os.Open("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```text "+name:
			in = true
		case in && line == "```":
			in = false
		case in:
			doc = append(doc, strings.Join(strings.Fields(line), " "))
		}
	}
	if len(doc) == 0 {
		t.Fatalf("PROTOCOL.md has no %s block", name)
	}
	if strings.Join(doc, "\n") != strings.Join(got, "\n") {
		t.Fatalf("PROTOCOL.md's %s says:\n%s\nthe reference sends:\n%s", name, strings.Join(doc, "\n"), strings.Join(got, "\n"))
	}
}
