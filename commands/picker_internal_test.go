package commands

import (
	"strings"
	"testing"
)

// A person scoped to some clients (a stakeholder) is offered only those.
func TestClientOptionsScope(t *testing.T) {
	clients := map[string]string{"acme": "Acme Ltd", "acorn": "Acorn", "beta": "Beta & Co", "long": strings.Repeat("L", 100)}
	got := func(all bool, scoped []string, q string) string {
		var vals []string
		for _, o := range clientOptions(clients, all, scoped, q) {
			vals = append(vals, o.Value+"="+o.Text.Text)
		}
		return strings.Join(vals, ",")
	}
	for _, tc := range []struct {
		all    bool
		scoped []string
		q      string
		want   string
	}{
		{true, nil, "ac", "acme=Acme Ltd (acme),acorn=Acorn (acorn)"},
		{false, []string{"beta"}, "", "beta=Beta & Co (beta)"},
		{false, []string{"beta"}, "ac", ""},
		{false, []string{"acme", "beta"}, " B ", "beta=Beta & Co (beta)"},
	} {
		if g := got(tc.all, tc.scoped, tc.q); g != tc.want {
			t.Errorf("all=%v scoped=%v %q: %s, want %s", tc.all, tc.scoped, tc.q, g, tc.want)
		}
	}
	if o := clientOptions(clients, true, nil, "long")[0]; len([]rune(o.Text.Text)) != maxOptionText {
		t.Errorf("long name option text has %d characters", len([]rune(o.Text.Text)))
	}
}
