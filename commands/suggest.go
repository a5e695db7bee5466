package commands

import (
	"fmt"
	"slices"
	"strings"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// unknownVerb answers with the closest verbs the caller may run.
func (r *Router) unknownVerb(p store.Principal, verb string) Reply {
	type cand struct {
		verb string
		dist int
	}
	var cands []cand
	for _, rt := range r.order {
		if !p.Can(rt.Perm) {
			continue
		}
		d := distance(verb, rt.Verb)
		if d <= max(1, len(rt.Verb)/3) || strings.HasPrefix(rt.Verb, verb) {
			cands = append(cands, cand{rt.Verb, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.dist - b.dist })
	text := fmt.Sprintf(":thinking_face: I don't know `%s`.", Escape(truncate(verb, 40)))
	if len(cands) > 0 {
		names := make([]string, 0, 3)
		for _, c := range cands[:min(3, len(cands))] {
			names = append(names, "`/ops "+c.verb+"`")
		}
		text += " Did you mean " + strings.Join(names, " or ") + "?"
	}
	text += " `/ops help` lists what you can run."
	return Reply{Text: text}
}

// truncate cuts s to at most n characters (see chat.Truncate).
func truncate(s string, n int) string { return chat.Truncate(s, n) }

// distance is the Levenshtein edit distance (verbs are short; inputs are capped).
func distance(a, b string) int {
	ra, rb := []rune(truncate(a, 64)), []rune(b)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
