package commands

import (
	"strings"
	"testing"
	"time"
)

func TestCertNote(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		notAfter time.Time
		want     string
	}{
		{time.Time{}, ""},
		{now.Add(20 * 24 * time.Hour), ""},
		{now.Add(9*24*time.Hour + time.Hour), "expires in 9 days"},
		{now.Add(-time.Hour), "expired"},
	}
	for _, tt := range tests {
		got := certNote(tt.notAfter, now)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("certNote(%v) = %q, want %q", tt.notAfter, got, tt.want)
		}
	}
}
