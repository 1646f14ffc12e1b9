package protocol

// The "did you mean" hints of the fact-sheet parser, the search
// parameters and the configuration: the known name closest to a mistyped
// one. Pure functions, safe for concurrent use.

// maxSuggestDistance is the largest edit distance at which Closest still
// suggests a candidate: two typos, or one typo and one swap.
const maxSuggestDistance = 2

// Closest returns the candidate nearest to got by EditDistance, or ""
// when none is within two edits. Of equally near candidates the first
// wins.
func Closest(got string, candidates []string) string {
	best, bestD := "", maxSuggestDistance+1
	for _, c := range candidates {
		if d := EditDistance(got, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// EditDistance is the optimal-string-alignment distance between a and b,
// counted in runes: insertions, deletions, substitutions and swaps of
// neighbours each cost one.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
