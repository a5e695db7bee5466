package chat

import "testing"

func TestChannelLinkAndMessageURL(t *testing.T) {
	for _, tt := range []struct{ channel, link, url string }{
		{"C0SUPPORT1", "<#C0SUPPORT1>", "https://slack.com/archives/C0SUPPORT1/p1700000000000100"},
		{"#ops-support", "#ops-support", ""}, // a name: no <#…> link, no archive URL
		{"", "", ""},
	} {
		if got := ChannelLink(tt.channel); got != tt.link {
			t.Errorf("ChannelLink(%q) = %q, want %q", tt.channel, got, tt.link)
		}
		if got := MessageURL(tt.channel, "1700000000.000100"); got != tt.url {
			t.Errorf("MessageURL(%q) = %q, want %q", tt.channel, got, tt.url)
		}
	}
}
