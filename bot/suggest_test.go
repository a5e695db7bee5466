package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

func options(n, textLen, valueLen int) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, n)
	for i := range out {
		text := fmt.Sprintf("%03d", i) + strings.Repeat("t", textLen-3)
		value := fmt.Sprintf("%03d", i) + strings.Repeat("v", valueLen-3)
		out[i] = slack.NewOptionBlockObject(value, slack.NewTextBlockObject(slack.PlainTextType, text, false, false), nil)
	}
	return out
}

// A block_suggestion is answered in its ack with the router's options; the
// router sees what was typed and which modal asks.
func TestSuggestionAnsweredInAck(t *testing.T) {
	got := make(chan commands.Suggestion, 1)
	h := &stubRouter{suggest: func(_ context.Context, s commands.Suggestion) []*slack.OptionBlockObject {
		got <- s
		return options(3, 10, 10)
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	env := s.fake.BlockSuggestion(user, slacktest.BlockSuggestion{ActionID: "value", BlockID: "cr_client", Value: "ac", CallbackID: "change_open"})
	ack, err := s.fake.WaitAck(env, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r slack.OptionsResponse
	if err := json.Unmarshal(ack.Payload, &r); err != nil || len(r.Options) != 3 || r.Options[0].Value != "000vvvvvvv" {
		t.Fatalf("ack payload %s (%v)", ack.Payload, err)
	}
	if sg := <-got; sg.User.ID != user || sg.BlockID != "cr_client" || sg.ActionID != "value" || sg.Value != "ac" || sg.CallbackID != "change_open" {
		t.Errorf("router got %+v", sg)
	}
}

// No options is an empty list, not an empty payload.
func TestSuggestionWithoutOptions(t *testing.T) {
	s := startStub(t, nil, &stubRouter{}, bot.Config{}, true)
	env := s.fake.BlockSuggestion(user, slacktest.BlockSuggestion{ActionID: "value", BlockID: "cr_client"})
	ack, err := s.fake.WaitAck(env, 3*time.Second)
	if err != nil || string(ack.Payload) != `{"options":[]}` {
		t.Fatalf("ack %s, %v", ack.Payload, err)
	}
}

// 100 options with long texts and values make a 28 KB ack, which Slack
// would drop: the list is shortened until the ack fits.
func TestSuggestionTrimmedUnder20KB(t *testing.T) {
	h := &stubRouter{suggest: func(context.Context, commands.Suggestion) []*slack.OptionBlockObject {
		return options(100, 75, 150)
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	env := s.fake.BlockSuggestion(user, slacktest.BlockSuggestion{ActionID: "value", BlockID: "cr_client"})
	ack, err := s.fake.WaitAck(env, 3*time.Second)
	if err != nil {
		t.Fatalf("%v (dropped: %+v)", err, s.fake.DroppedAcks())
	}
	var r slack.OptionsResponse
	if err := json.Unmarshal(ack.Payload, &r); err != nil || len(r.Options) < 50 || len(r.Options) >= 100 {
		t.Fatalf("%d options in a %d-byte payload (%v)", len(r.Options), len(ack.Payload), err)
	}
	if r.Options[0].Value[:3] != "000" {
		t.Errorf("the first options should be kept: %s", r.Options[0].Value)
	}
}
