package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
)

// internal answers a failure of the node: 507 when the disk is short of
// space (the message names the directory, the free space and what to
// do), else 500.
func (a *apiHandler) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNoSpace) {
		fail(w, http.StatusInsufficientStorage, "%s refused, writes are paused: %s", what, noSpaceDetail(err))
		return
	}
	a.n.Logger().Error("API request failed.", "op", what, "err", err)
	fail(w, http.StatusInternalServerError, "%s failed: %v; the daemon's log has details", what, err)
}

// invalid answers a document that failed validation: 400 with every
// problem, each with its field path, in the message and in Problems (413
// for one over a size limit).
func invalid(w http.ResponseWriter, what string, err error) {
	var ve *protocol.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		e := Error{Problems: make([]Problem, len(ve.Problems))}
		texts := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			e.Problems[i] = Problem{Path: p.Path, Line: p.Line, Message: p.Msg}
			texts[i] = p.Error()
			if p.Line > 0 {
				texts[i] = fmt.Sprintf("line %d: %s", p.Line, texts[i])
			}
		}
		count := "1 problem; fix it"
		if len(texts) > 1 {
			count = fmt.Sprintf("%d problems; fix them", len(texts))
		}
		e.Error = fmt.Sprintf("the %s has %s and send it again: %s", what, count, strings.Join(texts, "; "))
		writeJSON(w, http.StatusBadRequest, e)
	case errors.Is(err, protocol.ErrTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, "the %s is too large (%v); shorten its texts", what, err)
	default:
		fail(w, http.StatusBadRequest, "the %s is not valid: %v", what, err)
	}
}

// readBody reads a request body of at most limit bytes, answering the
// request itself when it cannot.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		fail(w, http.StatusRequestEntityTooLarge, "the %s is over the limit of %d bytes; shorten it", what, limit)
	case err != nil:
		fail(w, http.StatusBadRequest, "the %s could not be read: %v", what, err)
	default:
		return body, true
	}
	return nil, false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // never rendered as HTML: nosniff, application/json
	_ = enc.Encode(v)        // the status is sent; a client that went away needs nothing more
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, Error{Error: fmt.Sprintf(format, args...)})
}

// noSpaceDetail is the monitor's message inside err (which wraps
// store.ErrNoSpace) without the prefixes of the layers it went through.
func noSpaceDetail(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), store.ErrNoSpace.Error()) {
			return e.Error()
		}
	}
	return err.Error()
}
