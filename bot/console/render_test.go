package console

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

func txt(kind, s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(kind, s, false, false)
}

func incidentBlocks() []slack.Block {
	chart := "/tmp/opsbot-1-uptime.png"
	return []slack.Block{
		slack.NewHeaderBlock(txt(slack.PlainTextType, "Incident: acme.com")),
		slack.NewSectionBlock(txt(slack.MarkdownType, "*acme.com* is 🔴 down &amp; paging <@U42|bob>."), nil, nil),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			txt(slack.MarkdownType, "*Client*\nAcme"),
			txt(slack.MarkdownType, "*Status:*\n🔴 down\nsince 10:02"),
			txt(slack.MarkdownType, "no label"),
		}, nil),
		slack.NewContextBlock("", txt(slack.MarkdownType, "checked by *opsbot*"), slack.NewImageBlockElement("https://x/i.png", "logo")),
		slack.NewDividerBlock(),
		slack.NewImageBlock(chart, "uptime chart", "", nil),
		slack.NewSectionBlock(txt(slack.PlainTextType, "Runbook *as is*"), nil,
			slack.NewAccessory(slack.NewButtonBlockElement("runbook", "", txt(slack.PlainTextType, "Open runbook")).WithURL("https://wiki/rb"))),
		slack.NewActionBlock("alert",
			slack.NewButtonBlockElement("ack", "a1", txt(slack.PlainTextType, "Acknowledge")),
			slack.NewButtonBlockElement("resolve", "a1", txt(slack.PlainTextType, "Resolve")),
			slack.NewOverflowBlockElement("silence", slack.NewOptionBlockObject("1h", txt(slack.PlainTextType, "Silence 1h"), nil)),
		),
		slack.NewInputBlock("ignored", txt(slack.PlainTextType, "Input"), nil, slack.NewPlainTextInputBlockElement(nil, "x")),
	}
}

func TestRender(t *testing.T) {
	want := `ops> status acme
INCIDENT: ACME.COM
acme.com is 🔴 down & paging @bob.
Client: Acme
Status: 🔴 down
  since 10:02
no label
  checked by opsbot  [image: logo]
────────────────────────────────────────
[image: uptime chart] /tmp/opsbot-1-uptime.png
Runbook *as is*
[1] Open runbook (https://wiki/rb)
[2] Acknowledge  [3] Resolve  [4] Silence 1h
`
	h := &fakeHandler{command: func(commands.Command) commands.Reply {
		return commands.Reply{Text: "fallback", Blocks: incidentBlocks()}
	}}
	if got := run(t, "status acme\n", h); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderANSI(t *testing.T) {
	r := renderer{style: style{ansi: true, loc: time.UTC, now: time.Now}}
	got := r.message("", []slack.Block{
		slack.NewHeaderBlock(txt(slack.PlainTextType, "Cost")),
		slack.NewContextBlock("", txt(slack.MarkdownType, "by *me*")),
	})
	if want := "\x1b[1mCOST\x1b[22m\n\x1b[2m  by me\x1b[22m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRenderTextOnly(t *testing.T) {
	r := renderer{style: style{loc: time.UTC, now: time.Now}}
	tests := []struct {
		text   string
		blocks []slack.Block
		want   string
	}{
		{"*Cost* for <#C1|finance>", nil, "Cost for #finance"},
		{"fallback", []slack.Block{slack.NewInputBlock("i", txt(slack.PlainTextType, "x"), nil, nil)}, "fallback"},
		{"fallback", []slack.Block{slack.DividerBlock{Type: slack.MBTDivider}}, strings.Repeat("─", 40)},
	}
	for _, tt := range tests {
		if got := r.message(tt.text, tt.blocks); got != tt.want {
			t.Errorf("message(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestMrkdwn(t *testing.T) {
	now := time.Date(2023, 11, 15, 9, 0, 0, 0, time.UTC)
	st := style{loc: time.UTC, now: func() time.Time { return now }}
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{":money_with_wings: :lock: :chart_with_upwards_trend: :unknown_code:", "💸 🔒 📈 :unknown_code:"},
		{"*bold* and _italic_", "bold and italic"},
		{"a*b*c snake_case_name 2*3*4", "a*b*c snake_case_name 2*3*4"},
		{"* not bold * and *open", "* not bold * and *open"},
		{"*bold\nnot*", "*bold\nnot*"},
		{"*<https://x.io|link> inside*", "link (https://x.io) inside"},
		{"<@U123>", "@U123"},
		{"<@U123|bob> <@U9|@carol>", "@bob @carol"},
		{"<#C1|ops> <#C2>", "#ops #C2"},
		{"in <##ops-support> and #general", "in #ops-support and #general"},
		{"<https://x.io/a?b=1&amp;c=2|the docs>", "the docs (https://x.io/a?b=1&c=2)"},
		{"<https://x.io>", "https://x.io"},
		{"<mailto:a@b.io|a@b.io>", "a@b.io (mailto:a@b.io)"},
		{"<!here> <!subteam^S1|@ops>", "@here @ops"},
		{"<!date^1700000000^{date_short} {time}|Nov 14>", "Nov 14, 2023 22:13"},
		{"<!date^1700000000^{date_num} {time_secs}|x>", "2023-11-14 22:13:20"},
		{"<!date^1700000000^{date_long}|x>", "Tuesday, November 14th, 2023"},
		{"<!date^1700000000^{date} {ago}^https://x|x>", "November 14th, 2023 10 hours ago"},
		{"<!date^1700000000^{date_pretty}|x> <!date^1700038800^{date_long_pretty}|x> <!date^1700100000^{date_short_pretty}|x>", "yesterday today tomorrow"},
		{"<!date^1800000000^{date_short_pretty}|x>", "Jan 15, 2027"},
		{"<!date^1700000000^{bogus}|the fallback>", "the fallback"},
		{"<!date^notanumber^{date}|fb>", "fb"},
		{"a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"},
		{"`*code*` *x*", "*code* x"},
		{"run `/ops help` &amp; `a &lt; b`", "run /ops help & a < b"},
		{"```\n*block*\n```", "*block*"},
		{"see:\n```two\nlines```", "see:\ntwo\nlines"},
		{"`unclosed *x*", "`unclosed x"},
		{"1 < 2 > 0", "1 < 2 > 0"},
		{"<>", "<>"},
		{"<unclosed", "<unclosed"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := st.mrkdwn(tt.in); got != tt.want {
			t.Errorf("mrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMrkdwnLocalTime(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	st := style{loc: loc, now: time.Now}
	if got, want := st.mrkdwn("<!date^1700000000^{time}|x>"), "00:13"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "just now"}, {time.Minute, "1 minute ago"}, {-3 * time.Hour, "in 3 hours"},
		{49 * time.Hour, "2 days ago"}, {400 * 24 * time.Hour, "1 year ago"},
	}
	for _, tt := range tests {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{"*a* _b_ <@U1|x> <#C|y> <http://u|l> <!date^1^{date}|f> &amp; `c` ```d```",
		"<!date^-99999999999999^{date_pretty} {ago}|x>", "*_*_x_*_*", "<", "&", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 10<<10 {
			t.Skip()
		}
		plain := style{loc: time.UTC, now: time.Now}
		out := plain.mrkdwn(s)
		if !strings.Contains(s, "\x1b") && strings.Contains(out, "\x1b") {
			t.Errorf("ANSI codes without ansi: %q", out)
		}
		ansi := plain
		ansi.ansi = true
		_ = ansi.mrkdwn(s)
	})
}
