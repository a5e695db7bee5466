package console

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
)

func TestUserByName(t *testing.T) {
	c := New(Options{User: admin})
	tests := []struct {
		name string
		want commands.User
	}{
		{"alice", admin},
		{"@Alice", admin},
		{"ULOCAL", admin},
		{"bob", commands.User{ID: "UBOB", Name: "bob"}},
		{"@jo.smith-2", commands.User{ID: "UJOSMITH2", Name: "jo.smith-2"}},
	}
	for _, tt := range tests {
		got, err := c.UserByName(context.Background(), tt.name)
		if err != nil || got != tt.want {
			t.Errorf("UserByName(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := c.UserByName(context.Background(), "@"); err == nil {
		t.Error("UserByName(@) succeeded, want an error")
	}
}

func TestUpload(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	c := New(Options{Out: &out, FileDir: dir})
	path, err := c.Upload(context.Background(), "#finance", "../cost.png", "Cost, May", []byte("PNG"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "PNG" || !strings.HasPrefix(path, dir) || !strings.HasSuffix(path, "-cost.png") {
		t.Errorf("file %q: %q, %v", path, b, err)
	}
	if got, want := out.String(), "#finance: Cost, May: "+path+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestUploadMakesItsDirectory: the wiring names a directory under $TMPDIR
// that does not exist on a fresh machine; the first file makes it, private.
func TestUploadMakesItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "opsbot")
	c := New(Options{Out: io.Discard, FileDir: dir})
	path, err := c.UploadDM(context.Background(), "ULOCALUSER", "cost.png", "", []byte("PNG"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 || filepath.Dir(path) != dir {
		t.Errorf("directory %s: %v, %v; file %s", dir, fi, err, path)
	}
}

func TestUploadDM(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	c := New(Options{Out: &out, FileDir: dir})
	path, err := c.UploadDM(context.Background(), "ULOCALUSER", "changelog-2026-11.csv", "Change log", []byte("a,b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a,b\n" || !strings.HasPrefix(path, dir) {
		t.Errorf("file %q: %q, %v", path, b, err)
	}
	if got, want := out.String(), "(direct message) Change log: "+path+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if bot, err := c.IsBot(context.Background(), "ULOCALUSER"); bot || err != nil {
		t.Errorf("IsBot = %v, %v", bot, err)
	}
}
