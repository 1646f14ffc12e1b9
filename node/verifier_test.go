package node

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/khantara/khantara/protocol"
	"go.uber.org/goleak"
)

// The verifier opens a message's envelopes in the order added, reports a
// bad one, refuses more than it was sized for, and, once its session's
// context ends, returns that error and leaves no worker behind.
func TestVerifier(t *testing.T) {
	cat := sealCatalogue(t, demoSheets(t), 40, 4)
	envs := func() [][]byte {
		var out [][]byte
		for _, sg := range cat.signed {
			out = append(out, append([]byte(nil), sg.Envelope()...))
		}
		return out
	}
	before := goleak.IgnoreCurrent()
	for _, tc := range []struct {
		name   string
		mangle func(envs [][]byte) [][]byte
		cancel bool
		want   error // nil: every envelope opens
	}{
		{name: "valid", mangle: func(e [][]byte) [][]byte { return e }},
		{name: "one forged", mangle: func(e [][]byte) [][]byte {
			e[17][len(e[17])-1] ^= 1 // the signature's last byte
			return e
		}, want: errAnyOpen},
		{name: "one too many", mangle: func(e [][]byte) [][]byte { return append(e, e[0]) }, want: errUnaskedEnvelope},
		{name: "cancelled", mangle: func(e [][]byte) [][]byte { return e }, cancel: true, want: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e := tc.mangle(envs())
			v := newVerifier(ctx, len(cat.signed))
			var err error
			for i, env := range e {
				if i == len(e)/2 && tc.cancel {
					cancel()
				}
				if err = v.add(env); err != nil {
					break
				}
			}
			if err != nil {
				v.stop()
			} else {
				var opened []*protocol.Signed
				opened, err = v.wait()
				if err == nil {
					for i, sg := range opened {
						if !bytes.Equal(sg.Envelope(), cat.signed[i].Envelope()) {
							t.Fatalf("envelope %d opened out of order", i)
						}
					}
				}
			}
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case errors.Is(tc.want, errAnyOpen) && err == nil:
				t.Fatal("a forged envelope opened")
			case tc.want != nil && !errors.Is(tc.want, errAnyOpen) && !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			goleak.VerifyNone(t, before)
		})
	}
}

// errAnyOpen stands for any error from protocol.Open in TestVerifier.
var errAnyOpen = errors.New("any error opening an envelope")
