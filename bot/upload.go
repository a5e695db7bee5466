package bot

import (
	"bytes"
	"context"
	"errors"

	"github.com/slack-go/slack"
)

// Upload shares content as a file in channel with Slack's files upload v2
// (files.getUploadURLExternal, the upload, files.completeUploadExternal)
// and returns the file's ID. It implements commands.Uploader. Errors are
// classified like chat.postMessage's: rate limits, 5xx and network
// failures are retryable.
func (b *Bot) Upload(ctx context.Context, channel, filename, title string, content []byte) (string, error) {
	op := "slack: files upload " + filename + " to " + channel
	switch {
	case channel == "":
		return "", errors.New(op + ": no channel")
	case filename == "":
		return "", errors.New("slack: files upload: no filename")
	case len(content) == 0:
		return "", errors.New(op + ": empty file") // Slack refuses a zero length
	}
	var f *slack.FileSummary
	err := b.withChannel(ctx, channel, func(id string) error { // files.completeUploadExternal takes IDs only
		var uerr error
		f, uerr = b.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader:   bytes.NewReader(content),
			FileSize: len(content),
			Filename: filename,
			Title:    title,
			Channel:  id,
		})
		return uerr
	})
	if err != nil {
		return "", classify(op, err)
	}
	return f.ID, nil
}

// UploadDM sends content as a file to one person only: conversations.open
// gives the bot's direct message channel with them (files upload v2 takes
// conversation IDs, never a user ID), and the file is shared there. It
// implements commands.Uploader; errors are classified like Upload's.
func (b *Bot) UploadDM(ctx context.Context, userID, filename, title string, content []byte) (string, error) {
	if userID == "" {
		return "", errors.New("slack: files upload " + filename + " to a DM: no user")
	}
	ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", classify("slack: conversations.open with "+userID, err)
	}
	return b.Upload(ctx, ch.ID, filename, title, content)
}
