package httpprobe

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength)
	tests := []struct {
		raw          string
		allowPrivate bool
		wantErr      string // "" = valid
	}{
		{"https://example.com/health", false, ""},
		{"http://example.com:8080/", false, ""},
		{"HTTPS://Example.com", false, ""},
		{"http://[2606:4700::1111]/", false, ""},
		{"http://10.0.0.1/", true, ""},
		{"ftp://example.com/", false, `invalid URL: scheme "ftp" is not allowed (use http or https)`},
		{"javascript:alert(1)", false, `invalid URL: scheme "javascript" is not allowed (use http or https)`},
		{"http://", false, "invalid URL: it has no host (example: https://example.com/health)"},
		{"http:///health", false, "invalid URL: it has no host (example: https://example.com/health)"},
		{"http:example.com", false, "invalid URL: it has no host (example: https://example.com/health)"},
		{"example.com/health", false, "invalid URL: it has no scheme (start it with https://, e.g. https://example.com/health)"},
		{"https://user:pass@example.com/", false, "invalid URL: it must not contain a user name or password"},
		{"https://user@example.com/", false, "invalid URL: it must not contain a user name or password"},
		{"https://example.com/a b", false, "invalid URL: it contains spaces or control characters (encode a space as %20)"},
		{" https://example.com/", false, "invalid URL: it contains spaces or control characters (encode a space as %20)"},
		{"https://example.com/\x00", false, "invalid URL: it contains spaces or control characters (encode a space as %20)"},
		{"", false, "invalid URL: it is empty (example: https://example.com/health)"},
		{long, false, "invalid URL: it is too long (2068 characters, at most 2048)"},
		{"http://example.com:0/", false, `invalid URL: port "0" is out of range (1-65535)`},
		{"http://example.com:70000/", false, `invalid URL: port "70000" is out of range (1-65535)`},
		{"http://example.com:/", false, `invalid URL: it has an empty port after "example.com:"`},
		{"http://example.com:http/", false, `invalid URL: it cannot be parsed: invalid port ":http" after host`},
		{"http://10.0.0.1/", false, "invalid URL: address 10.0.0.1 is private (not allowed)"},
		{"http://169.254.169.254/", false, "invalid URL: address 169.254.169.254 is cloud metadata (never allowed)"},
		{"http://169.254.169.254/", true, "invalid URL: address 169.254.169.254 is cloud metadata (never allowed)"},
		{"http://[fd00:ec2::254]/", true, "invalid URL: address fd00:ec2::254 is cloud metadata (never allowed)"},
		{"http://metadata.google.internal/", true, "invalid URL: host metadata.google.internal is cloud metadata (never allowed)"},
		{"http://[64:ff9b::10.0.0.1]/", false, "invalid URL: address 64:ff9b::a00:1 carries 10.0.0.1, which is private (not allowed)"},
		{"http://[2002:7f00:1::1]/", false, "invalid URL: address 2002:7f00:1::1 carries 127.0.0.1, which is loopback (not allowed)"},
		{"http://[64:ff9b::10.0.0.1]/", true, ""},
		{"http://[::1]:80/", false, "invalid URL: address ::1 is loopback (not allowed)"},
	}
	for _, tt := range tests {
		u, err := ValidateURL(tt.raw, Guard{AllowPrivate: tt.allowPrivate})
		var got string
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("ValidateURL(%.40q) error %v does not wrap ErrInvalidURL", tt.raw, err)
			}
		} else if u == nil {
			t.Errorf("ValidateURL(%.40q) = nil, nil", tt.raw)
		}
		if got != tt.wantErr {
			t.Errorf("ValidateURL(%.40q) error = %q, want %q", tt.raw, got, tt.wantErr)
		}
	}
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://example.com/health", "ftp://x", "http://user:pw@h/", "http://[::1]:80/", "javascript:alert(1)", "http://10.0.0.1:99999", "%", "http://[fe80::1%25eth0]/"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		u, err := ValidateURL(raw, Guard{AllowPrivate: allowPrivate})
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("error %v does not wrap ErrInvalidURL", err)
			}
			return
		}
		if s := strings.ToLower(u.Scheme); s != "http" && s != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("ValidateURL(%q) accepted %#v", raw, u)
		}
	})
}
