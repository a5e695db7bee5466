package console

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// style is how text is written to the terminal: ANSI attributes or none, and
// the clock and time zone that Slack's <!date^...> tokens are shown in.
type style struct {
	ansi bool
	loc  *time.Location
	now  func() time.Time
	// name is the name a user ID is known by, for <@U123> without a label;
	// nil, or not known: the ID.
	name func(id string) (string, bool)
}

// ANSI attributes; each is switched off by its own reset so they nest.
const (
	boldOn, boldOff     = "\x1b[1m", "\x1b[22m"
	italicOn, italicOff = "\x1b[3m", "\x1b[23m"
	dimOn, dimOff       = "\x1b[2m", "\x1b[22m"
	codeOn, codeOff     = "\x1b[36m", "\x1b[39m" // cyan, then the default colour
)

// unescape undoes Slack's escaping of user text (&amp; &lt; &gt;).
var unescape = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace

// mrkdwn converts Slack mrkdwn to terminal text: *bold* and _italic_ lose
// their markers (ANSI attributes when st.ansi), <@U1|name> becomes @name,
// <#C1|name> #name, <url|label> "label (url)", <!date^...> the formatted time
// (or its fallback), and &amp; &lt; &gt; are unescaped. Code spans and
// blocks lose their backticks, their text otherwise verbatim (cyan when
// st.ansi). It never panics, whatever the input.
func (st style) mrkdwn(s string) string {
	var b strings.Builder
	st.inline(&b, emoji(s))
	return b.String()
}

// emoji turns the shortcodes opsbot's messages use into the characters Slack
// would show; unknown shortcodes stay as typed.
var emoji = strings.NewReplacer(
	":white_check_mark:", "✅", ":warning:", "⚠️", ":no_entry:", "⛔", ":x:", "❌",
	":thinking_face:", "🤔", ":hourglass:", "⏳", ":red_circle:", "🔴",
	":large_orange_circle:", "🟠", ":large_green_circle:", "🟢", ":double_vertical_bar:", "⏸️",
	":hourglass_flowing_sand:", "⏳", ":lock:", "🔒", ":chart_with_upwards_trend:", "📈", ":money_with_wings:", "💸",
	":twisted_rightwards_arrows:", "🔀", ":new:", "🆕", ":information_source:", "ℹ️", ":ghost:", "👻", ":bar_chart:", "📊",
).Replace

func (st style) inline(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			if j := strings.IndexAny(s[i+1:], "<>\n"); j > 0 && s[i+1+j] == '>' && !isSpace(s[i+1]) {
				b.WriteString(st.angle(s[i+1 : i+1+j]))
				i += j + 2
				continue
			}
		case '`':
			if n := codeSpan(s[i:]); n > 0 {
				b.WriteString(st.code(s[i : i+n]))
				i += n
				continue
			}
		case '*', '_':
			if j := closing(s, i); j > 0 {
				var inner strings.Builder
				st.inline(&inner, s[i+1:j])
				b.WriteString(st.emph(c, inner.String()))
				i = j + 1
				continue
			}
		case '&':
			if e, n := entity(s[i:]); n > 0 {
				b.WriteString(e)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
}

// emph styles an emphasised span: bold for '*', italic for '_'.
func (st style) emph(d byte, s string) string {
	switch {
	case !st.ansi:
		return s
	case d == '*':
		return boldOn + s + boldOff
	default:
		return italicOn + s + italicOff
	}
}

// bold renders already-converted text in bold when ANSI is on.
func (st style) bold(s string) string {
	if !st.ansi || s == "" {
		return s
	}
	return boldOn + s + boldOff
}

// closing returns the index of the delimiter closing the emphasis opened at
// s[i], or -1 when s[i] does not open one. Like Slack: the opener follows a
// non-word character, the closer precedes one, neither touches a space, and
// both sit on the same line.
func closing(s string, i int) int {
	d := s[i]
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(r) || r == rune(d) {
			return -1
		}
	}
	if i+1 >= len(s) || s[i+1] == d || isSpace(s[i+1]) {
		return -1
	}
	for j := i + 2; j < len(s); j++ {
		switch s[j] {
		case '\n':
			return -1
		case d:
			if isSpace(s[j-1]) {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 < len(s) && isWord(r) {
				continue
			}
			return j
		}
	}
	return -1
}

func isWord(r rune) bool  { return unicode.IsLetter(r) || unicode.IsDigit(r) }
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// codeSpan returns the length of the `code` or ```block``` starting s, or 0.
func codeSpan(s string) int {
	if strings.HasPrefix(s, "```") {
		if k := strings.Index(s[3:], "```"); k >= 0 {
			return k + 6
		}
		return 0
	}
	if k := strings.IndexAny(s[1:], "`\n"); k > 0 && s[1+k] == '`' {
		return k + 2
	}
	return 0
}

// code renders a `span` or ```block``` (as codeSpan measured it) without
// its backticks; a block's fences on lines of their own leave no blank lines.
func (st style) code(s string) string {
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(strings.TrimSuffix(s[3:len(s)-3], "\n"), "\n")
	} else {
		s = s[1 : len(s)-1]
	}
	s = unescape(s)
	if !st.ansi || s == "" {
		return s
	}
	return codeOn + s + codeOff
}

// entity decodes the Slack entity starting s and returns its length, or 0.
func entity(s string) (string, int) {
	for _, e := range [...]struct{ in, out string }{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}} {
		if strings.HasPrefix(s, e.in) {
			return e.out, len(e.in)
		}
	}
	return "", 0
}

// angle renders the inside of <...>: a mention, a channel, a special
// (!here, !date^...) or a link.
func (st style) angle(in string) string {
	body, label, hasLabel := strings.Cut(in, "|")
	label = unescape(label)
	switch {
	case strings.HasPrefix(body, "@"), strings.HasPrefix(body, "#"):
		if hasLabel && label != "" {
			return body[:1] + strings.TrimPrefix(label, body[:1])
		}
		if body[0] == '@' && st.name != nil {
			if n, ok := st.name(body[1:]); ok {
				return "@" + n
			}
		}
		return body[:1] + strings.TrimLeft(body[1:], body[:1]) // <##name> from a #name: one '#'
	case strings.HasPrefix(body, "!date^"):
		return st.date(body, label)
	case strings.HasPrefix(body, "!"):
		if hasLabel && label != "" {
			return label
		}
		if name, _, _ := strings.Cut(body[1:], "^"); name != "" {
			return "@" + name
		}
		return body
	}
	url := unescape(body)
	if !hasLabel || label == "" || label == url {
		return url
	}
	return label + " (" + url + ")"
}
