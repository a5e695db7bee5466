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

// TestUploadDMGoesToTheDirectMessage: a file for one person goes through
// conversations.open (files upload v2 takes no user IDs) into that DM.
func TestUploadDMGoesToTheDirectMessage(t *testing.T) {
	fake, b := newUploadBot(t)
	if _, err := b.UploadDM(context.Background(), "UALICE0001", "cost.png", "Cost", []byte("PNG")); err != nil {
		t.Fatal(err)
	}
	opens := fake.Calls("conversations.open")
	if len(opens) != 1 || opens[0].Form.Get("users") != "UALICE0001" {
		t.Fatalf("conversations.open calls: %+v", opens)
	}
	if files := fake.Files(); len(files) != 1 || files[0].Channel != "DUALICE0001" {
		t.Fatalf("files: %+v", files)
	}
	// Without conversations.open the upload would be refused, as Slack does.
	if _, err := b.Upload(context.Background(), "UALICE0001", "cost.png", "Cost", []byte("PNG")); err == nil {
		t.Fatal("an upload to a user ID was accepted")
	}
	fake.FailNext("conversations.open", 200, `{"ok":false,"error":"user_not_found"}`, nil)
	if _, err := b.UploadDM(context.Background(), "UGONE00001", "cost.png", "Cost", []byte("PNG")); err == nil {
		t.Fatal("UploadDM without a DM succeeded")
	}
	if len(fake.Files()) != 1 {
		t.Fatalf("files: %+v", fake.Files())
	}
}

// TestIsBot: users.info's is_bot and Slackbot count as bots; a person does
// not; an unknown user is commands.ErrUnknownUser.
func TestIsBot(t *testing.T) {
	fake, b := newUploadBot(t)
	fake.AddUser(slacktest.User{ID: "UDEPLOY001", Name: "deploybot", IsBot: true})
	fake.AddUser(slacktest.User{ID: "UALICE0001", Name: "alice"})
	for id, want := range map[string]bool{"UDEPLOY001": true, "USLACKBOT": true, "UALICE0001": false} {
		if got, err := b.IsBot(context.Background(), id); err != nil || got != want {
			t.Errorf("IsBot(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if _, err := b.IsBot(context.Background(), "UNOBODY001"); !errors.Is(err, commands.ErrUnknownUser) {
		t.Errorf("IsBot(unknown) error = %v", err)
	}
}
