package protocol

import (
	"fmt"
	"testing"
)

// TestDecodeIDTable decodes many more IDs than DecodeID's table has
// slots, twice over, so that slots are shared and overwritten: every
// answer must be the decoding of the text asked for.
func TestDecodeIDTable(t *testing.T) {
	var texts []string
	for i := range 4 * len(decodedIDs) {
		texts = append(texts, OrgID(fmt.Appendf(nil, "genesis %d", i)).String())
	}
	for round := range 2 {
		for _, s := range texts {
			got, err := DecodeID(s)
			want, _ := decodeID(s)
			if err != nil || got != want || got.String() != s {
				t.Fatalf("round %d: %s decodes to %s (%v)", round, s, got, err)
			}
		}
	}
}
