package integrations

import "testing"

func TestOWASPCategory(t *testing.T) {
	for cwe, want := range map[int]string{
		79: "A03:2021 Injection", 89: "A03:2021 Injection", 352: "A01:2021 Broken Access Control",
		918: "A10:2021 Server-Side Request Forgery", 1004: "A05:2021 Security Misconfiguration",
		0: "", 12345: "",
	} {
		if got := OWASPCategory(cwe); got != want {
			t.Errorf("OWASPCategory(%d) = %q, want %q", cwe, got, want)
		}
	}
}

func TestOWASPFromTag(t *testing.T) {
	for tag, want := range map[string]string{
		"OWASP 2021 A03":   "A03:2021 Injection",
		"A10:2021":         "A10:2021 Server-Side Request Forgery",
		"owasp-2021-a1":    "A01:2021 Broken Access Control",
		"OWASP 2017 A03":   "", // another edition: its A03 is not Injection
		"A03":              "", // no edition
		"WordPress plugin": "",
		"OWASP 2021 A11":   "",
	} {
		if got := OWASPFromTag(tag); got != want {
			t.Errorf("OWASPFromTag(%q) = %q, want %q", tag, got, want)
		}
	}
}
