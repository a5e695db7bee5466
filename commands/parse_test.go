package commands

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  help  ", []string{"help"}},
		{"role grant <@U123ABC|alice> support", []string{"role", "grant", "<@U123ABC|alice>", "support"}},
		{`silence acme 2h "deploy in progress"`, []string{"silence", "acme", "2h", "deploy in progress"}},
		{"silence acme 2h “smart quotes here”", []string{"silence", "acme", "2h", "smart quotes here"}},
		{"change <https://github.com/a/b/issues/1|a/b#1 issue>", []string{"change", "<https://github.com/a/b/issues/1|a/b#1 issue>"}},
		{`x "unclosed quote`, []string{"x", "unclosed quote"}},
		{"x <unclosed bracket", []string{"x", "<unclosed bracket"}},
		{`a ""`, []string{"a", ""}},
		{"tab\tand\nnewline", []string{"tab", "and", "newline"}},
		{"ünïcödé 🚀", []string{"ünïcödé", "🚀"}},
	}
	for _, tt := range tests {
		if got := Tokenize(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseUserRef(t *testing.T) {
	tests := []struct {
		in   string
		want UserRef
		ok   bool
	}{
		{"<@U123ABC|alice>", UserRef{ID: "U123ABC", Name: "alice"}, true},
		{"<@W0ABCDEF>", UserRef{ID: "W0ABCDEF"}, true},
		{"U0789IJKL1", UserRef{ID: "U0789IJKL1"}, true},
		{"@alice.smith", UserRef{Name: "alice.smith"}, true},
		{"@", UserRef{}, false},
		{"alice", UserRef{}, false},
		{"<#C123|ops>", UserRef{}, false},
		{"<@u123>", UserRef{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseUserRef(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseUserRef(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"help", `role grant <@U1|a> "x y"`, "“a", "<", `"`, "<@U1|>", strings.Repeat("a \"b\" <c d> ", 900), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := Tokenize(s)
		total := 0
		for _, w := range words {
			if !utf8.ValidString(w) {
				t.Fatalf("invalid UTF-8 word %q", w)
			}
			total += len(w)
			if w != "" {
				ParseUserRef(w)
			}
		}
		if total > 3*len(s)+3 {
			t.Fatalf("words (%d bytes) longer than input (%d)", total, len(s))
		}
	})
}
