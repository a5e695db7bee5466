package bot_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
)

// The Slack transport is the router's Uploader.
var _ commands.Uploader = (*bot.Bot)(nil)

func newUploadBot(t *testing.T) (*slacktest.Server, *bot.Bot) {
	t.Helper()
	fake := slacktest.New(t)
	return fake, bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, nil)
}

func TestUploadSharesTheFile(t *testing.T) {
	fake, b := newUploadBot(t)
	content := []byte("id,title\nCR-1,\"Bigger, faster\"\n")
	id, err := b.Upload(context.Background(), "C0FIN0001", "changelog-2026-11.csv", "Change log — November 2026", content)
	if err != nil {
		t.Fatal(err)
	}
	files := fake.Files()
	if len(files) != 1 {
		t.Fatalf("Files() = %+v, want one", files)
	}
	f := files[0]
	if f.ID != id || id == "" {
		t.Errorf("returned ID %q, fake holds %q", id, f.ID)
	}
	if f.Name != "changelog-2026-11.csv" || f.Title != "Change log — November 2026" || f.Channel != "C0FIN0001" {
		t.Errorf("file = %+v", f)
	}
	if !bytes.Equal(f.Content, content) {
		t.Errorf("content = %q, want %q", f.Content, content)
	}
}

func TestUploadErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	t.Run("server error is retryable", func(t *testing.T) {
		fake, b := newUploadBot(t)
		fake.FailNext("files.getUploadURLExternal", 500, "", nil)
		_, err := b.Upload(ctx, "C0FIN0001", "a.csv", "A", []byte("x"))
		var re *integrations.RetryableError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v (%T), want retryable", err, err)
		}
		if len(fake.Files()) != 0 {
			t.Fatalf("a failed upload was shared: %+v", fake.Files())
		}
	})
	t.Run("upload step fails", func(t *testing.T) {
		fake, b := newUploadBot(t)
		fake.FailNext("file_upload", 503, "", nil)
		_, err := b.Upload(ctx, "C0FIN0001", "a.csv", "A", []byte("x"))
		var re *integrations.RetryableError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v (%T), want retryable", err, err)
		}
		if len(fake.Files()) != 0 {
			t.Fatalf("a failed upload was shared: %+v", fake.Files())
		}
	})
	t.Run("slack refusal is final", func(t *testing.T) {
		fake, b := newUploadBot(t)
		fake.FailNext("files.completeUploadExternal", 200, `{"ok":false,"error":"channel_not_found"}`, nil)
		_, err := b.Upload(ctx, "C0NOPE001", "a.csv", "A", []byte("x"))
		var re *integrations.RetryableError
		if err == nil || errors.As(err, &re) {
			t.Fatalf("err = %v, want a final (not retryable) error", err)
		}
	})
	t.Run("empty file refused before calling Slack", func(t *testing.T) {
		fake, b := newUploadBot(t)
		_, err := b.Upload(ctx, "C0FIN0001", "a.csv", "A", nil)
		var re *integrations.RetryableError
		if err == nil || errors.As(err, &re) {
			t.Fatalf("err = %v, want a final error", err)
		}
		if calls := fake.Calls(""); len(calls) != 0 {
			t.Fatalf("empty upload called Slack: %+v", calls)
		}
	})
}
