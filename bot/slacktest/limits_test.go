package slacktest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/383project/opsbot/bot/slacktest"
)

type obj = map[string]any

func txt(typ string, n int) obj { return obj{"type": typ, "text": strings.Repeat("x", n)} }
func ptxt(n int) obj            { return txt("plain_text", n) }
func mtxt(n int) obj            { return txt("mrkdwn", n) }

func repeat(n int, v any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func section(n int) obj { return obj{"type": "section", "text": mtxt(n)} }
func option(n int) obj  { return obj{"text": ptxt(5), "value": strings.Repeat("v", n)} }

// button is an actions block holding one button with these fields.
func button(fields obj) []any {
	b := obj{"type": "button", "action_id": "a", "text": ptxt(2)}
	for k, v := range fields {
		b[k] = v
	}
	return []any{obj{"type": "actions", "elements": []any{b}}}
}

// input is a modal input block around element el.
func input(el obj) []any {
	if el["action_id"] == nil {
		el["action_id"] = "a"
	}
	return []any{obj{"type": "input", "label": ptxt(5), "element": el}}
}

// modal is a valid modal with blocks and the fields given.
func modal(blocks []any, fields obj) obj {
	v := obj{"type": "modal", "title": ptxt(5), "submit": ptxt(2), "blocks": blocks}
	for k, x := range fields {
		v[k] = x
	}
	return v
}

// limitCase builds a payload of size n; ok is the largest (or smallest)
// size Slack takes and bad the first it refuses.
type limitCase struct {
	name    string
	ok, bad int
	view    func(n int) obj    // views.open payload
	blocks  func(n int) []any  // chat.postMessage blocks
	text    func(n int) string // chat.postMessage text
	code    string             // Slack's error
	pointer string             // JSON pointer named in the error
}

func limitCases() []limitCase {
	div := obj{"type": "divider"}
	return []limitCase{
		{name: "message text", ok: 40000, bad: 40001, text: func(n int) string { return strings.Repeat("x", n) }, code: "msg_too_long", pointer: "/text"},
		{name: "blocks in a message", ok: 50, bad: 51, blocks: func(n int) []any { return repeat(n, div) }, code: "invalid_blocks", pointer: "/blocks"},
		{name: "blocks in a modal", ok: 100, bad: 101, view: func(n int) obj { return modal(repeat(n, div), nil) }, code: "invalid_arguments", pointer: "/view/blocks"},
		{name: "blocks in a Home tab", ok: 100, bad: 101, view: func(n int) obj { return obj{"type": "home", "blocks": repeat(n, div)} }, code: "invalid_arguments", pointer: "/view/blocks"},
		{name: "section text", ok: 3000, bad: 3001, blocks: func(n int) []any { return []any{section(n)} }, code: "invalid_blocks", pointer: "/blocks/0/text/text"},
		{name: "section text empty", ok: 1, bad: 0, blocks: func(n int) []any { return []any{section(n)} }, code: "invalid_blocks", pointer: "/blocks/0/text/text"},
		{name: "section fields", ok: 10, bad: 11, blocks: func(n int) []any { return []any{obj{"type": "section", "fields": repeat(n, mtxt(3))}} }, code: "invalid_blocks", pointer: "/blocks/0/fields"},
		{name: "section field text", ok: 2000, bad: 2001, blocks: func(n int) []any { return []any{obj{"type": "section", "fields": []any{mtxt(n)}}} }, code: "invalid_blocks", pointer: "/blocks/0/fields/0/text"},
		{name: "header text", ok: 150, bad: 151, blocks: func(n int) []any { return []any{obj{"type": "header", "text": ptxt(n)}} }, code: "invalid_blocks", pointer: "/blocks/0/text/text"},
		{name: "context elements", ok: 10, bad: 11, blocks: func(n int) []any { return []any{obj{"type": "context", "elements": repeat(n, mtxt(3))}} }, code: "invalid_blocks", pointer: "/blocks/0/elements"},
		{name: "actions elements", ok: 25, bad: 26, blocks: func(n int) []any {
			return []any{obj{"type": "actions", "elements": repeat(n, obj{"type": "button", "text": ptxt(2)})}}
		}, code: "invalid_blocks", pointer: "/blocks/0/elements"},
		{name: "block_id", ok: 255, bad: 256, blocks: func(n int) []any { return []any{obj{"type": "divider", "block_id": strings.Repeat("b", n)}} }, code: "invalid_blocks", pointer: "/blocks/0/block_id"},
		{name: "action_id", ok: 255, bad: 256, blocks: func(n int) []any { return button(obj{"action_id": strings.Repeat("a", n)}) }, code: "invalid_blocks", pointer: "/blocks/0/elements/0/action_id"},
		{name: "button text", ok: 75, bad: 76, blocks: func(n int) []any { return button(obj{"text": ptxt(n)}) }, code: "invalid_blocks", pointer: "/blocks/0/elements/0/text/text"},
		{name: "button value", ok: 2000, bad: 2001, blocks: func(n int) []any { return button(obj{"value": strings.Repeat("v", n)}) }, code: "invalid_blocks", pointer: "/blocks/0/elements/0/value"},
		{name: "button url", ok: 3000, bad: 3001, blocks: func(n int) []any { return button(obj{"url": strings.Repeat("u", n)}) }, code: "invalid_blocks", pointer: "/blocks/0/elements/0/url"},
		{name: "confirm title", ok: 100, bad: 101, blocks: func(n int) []any {
			return button(obj{"confirm": obj{"title": ptxt(n), "text": mtxt(5), "confirm": ptxt(3), "deny": ptxt(3)}})
		}, code: "invalid_blocks", pointer: "/blocks/0/elements/0/confirm/title/text"},
		{name: "image alt_text", ok: 2000, bad: 2001, blocks: func(n int) []any {
			return []any{obj{"type": "image", "image_url": "https://example.com/a.png", "alt_text": strings.Repeat("a", n)}}
		}, code: "invalid_blocks", pointer: "/blocks/0/alt_text"},
		{name: "overflow options", ok: 5, bad: 6, blocks: func(n int) []any { return button(obj{"type": "overflow", "options": repeat(n, option(3))}) }, code: "invalid_blocks", pointer: "/blocks/0/elements/0/options"},
		{name: "placeholder", ok: 150, bad: 151, view: func(n int) obj {
			return modal(input(obj{"type": "plain_text_input", "placeholder": ptxt(n)}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/placeholder/text"},
		{name: "placeholder empty", ok: 1, bad: 0, view: func(n int) obj {
			return modal(input(obj{"type": "plain_text_input", "placeholder": ptxt(n)}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/placeholder/text"},
		{name: "static_select options", ok: 100, bad: 101, view: func(n int) obj {
			return modal(input(obj{"type": "static_select", "options": repeat(n, option(3))}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/options"},
		{name: "option text", ok: 75, bad: 76, view: func(n int) obj {
			return modal(input(obj{"type": "static_select", "options": []any{obj{"text": ptxt(n), "value": "v"}}}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/options/0/text/text"},
		{name: "option value", ok: 150, bad: 151, view: func(n int) obj {
			return modal(input(obj{"type": "static_select", "options": []any{option(n)}}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/options/0/value"},
		{name: "radio_buttons options", ok: 10, bad: 11, view: func(n int) obj {
			return modal(input(obj{"type": "radio_buttons", "options": repeat(n, option(3))}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/options"},
		{name: "initial_value over max_length", ok: 100, bad: 101, view: func(n int) obj {
			return modal(input(obj{"type": "plain_text_input", "max_length": 100, "initial_value": strings.Repeat("i", n)}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/initial_value"},
		{name: "plain_text_input max_length", ok: 3000, bad: 3001, view: func(n int) obj {
			return modal(input(obj{"type": "plain_text_input", "max_length": n}), nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/element/max_length"},
		{name: "input label", ok: 2000, bad: 2001, view: func(n int) obj {
			return modal([]any{obj{"type": "input", "label": ptxt(n), "element": obj{"type": "plain_text_input", "action_id": "a"}}}, nil)
		}, code: "invalid_arguments", pointer: "/view/blocks/0/label/text"},
		{name: "view title", ok: 24, bad: 25, view: func(n int) obj { return modal([]any{div}, obj{"title": ptxt(n)}) }, code: "invalid_arguments", pointer: "/view/title/text"},
		{name: "view submit", ok: 24, bad: 25, view: func(n int) obj { return modal([]any{div}, obj{"submit": ptxt(n)}) }, code: "invalid_arguments", pointer: "/view/submit/text"},
		{name: "view close", ok: 24, bad: 25, view: func(n int) obj { return modal([]any{div}, obj{"close": ptxt(n)}) }, code: "invalid_arguments", pointer: "/view/close/text"},
		{name: "private_metadata", ok: 3000, bad: 3001, view: func(n int) obj {
			return modal([]any{div}, obj{"private_metadata": strings.Repeat("m", n)})
		}, code: "invalid_arguments", pointer: "/view/private_metadata"},
		{name: "callback_id", ok: 255, bad: 256, view: func(n int) obj { return modal([]any{div}, obj{"callback_id": strings.Repeat("c", n)}) }, code: "invalid_arguments", pointer: "/view/callback_id"},
	}
}

// post sends a Web API call the way slack-go does (form for chat.*, JSON
// with a Bearer token for views.*) and decodes Slack's answer.
func post(t *testing.T, fake *slacktest.Server, method string, body any) obj {
	t.Helper()
	var req *http.Request
	switch b := body.(type) {
	case url.Values:
		b.Set("token", "xoxb-test")
		req, _ = http.NewRequest(http.MethodPost, fake.APIURL()+method, strings.NewReader(b.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		raw, _ := json.Marshal(b)
		req, _ = http.NewRequest(http.MethodPost, fake.APIURL()+method, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer xoxb-test")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out obj
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEachLimitRefused proves every limit of the table: the payload at the
// limit is taken, one step past it is refused with Slack's error and the
// JSON pointer of the field.
func TestEachLimitRefused(t *testing.T) {
	fake := newFake(t)
	fake.ExpectRefusals()
	send := func(tc limitCase, n int) obj {
		switch {
		case tc.view != nil:
			return post(t, fake, "views.open", obj{"trigger_id": fake.NewTriggerID(), "view": tc.view(n)})
		case tc.blocks != nil:
			raw, _ := json.Marshal(tc.blocks(n))
			return post(t, fake, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"fallback"}, "blocks": {string(raw)}})
		default:
			return post(t, fake, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {tc.text(n)}})
		}
	}
	for _, tc := range limitCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := send(tc, tc.ok); got["ok"] != true {
				t.Fatalf("at the limit (%d) refused: %v", tc.ok, got)
			}
			got := send(tc, tc.bad)
			if got["ok"] != false || got["error"] != tc.code {
				t.Fatalf("past the limit (%d) = %v, want error %s", tc.bad, got, tc.code)
			}
			msgs, _ := got["response_metadata"].(obj)["messages"].([]any)
			if len(msgs) == 0 || !strings.HasPrefix(msgs[0].(string), "[ERROR] ") || !strings.Contains(msgs[0].(string), "[json-pointer:"+tc.pointer+"]") {
				t.Errorf("messages = %v, want one naming %s", msgs, tc.pointer)
			}
			if tc.code == "invalid_blocks" && got["errors"] == nil {
				t.Errorf("invalid_blocks without errors: %v", got)
			}
			// The exported checks used by other packages' tests agree.
			var err error
			switch {
			case tc.view != nil:
				err = slacktest.CheckView(tc.view(tc.bad))
				if slacktest.CheckView(tc.view(tc.ok)) != nil {
					t.Error("CheckView refuses the payload at the limit")
				}
			case tc.blocks != nil:
				err = slacktest.CheckMessage("x", tc.blocks(tc.bad))
			default:
				err = slacktest.CheckMessage(tc.text(tc.bad), nil)
			}
			var le *slacktest.LimitError
			if !errors.As(err, &le) || le.Code != tc.code {
				t.Errorf("Check* = %v, want %s", err, tc.code)
			}
		})
	}
}

// The other message methods and response_url posts obey the message rules.
func TestMessageRulesOnEveryMethod(t *testing.T) {
	fake := newFake(t)
	fake.ExpectRefusals()
	long := strings.Repeat("x", slacktest.MaxMessageText+1)
	blocks51, _ := json.Marshal(repeat(51, obj{"type": "divider"}))
	posted := post(t, fake, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}})
	ts, _ := posted["ts"].(string)
	cases := []struct {
		method string
		form   url.Values
		code   string
	}{
		{"chat.update", url.Values{"channel": {"C1"}, "ts": {ts}, "text": {long}}, "msg_too_long"},
		{"chat.update", url.Values{"channel": {"C1"}, "ts": {ts}, "blocks": {string(blocks51)}}, "invalid_blocks"},
		{"chat.postEphemeral", url.Values{"channel": {"C1"}, "user": {"U1"}, "text": {long}}, "msg_too_long"},
		{"chat.postEphemeral", url.Values{"channel": {"C1"}, "user": {"U1"}, "text": {"x"}, "blocks": {string(blocks51)}}, "invalid_blocks"},
	}
	for _, tc := range cases {
		if got := post(t, fake, tc.method, tc.form); got["error"] != tc.code {
			t.Errorf("%s %v = %v, want %s", tc.method, tc.form, got, tc.code)
		}
	}
	if m := fake.Messages("C1"); len(m) != 1 || m[0].Text != "hi" || m[0].Updated != 0 {
		t.Errorf("a refused update changed the message: %+v", m)
	}
	for _, tc := range []struct {
		body obj
		code string
	}{
		{obj{"text": long}, "msg_too_long"},
		{obj{"text": "x", "blocks": repeat(51, obj{"type": "divider"})}, "invalid_blocks"},
		{obj{"text": "x", "blocks": []any{section(3000)}}, ""},
	} {
		raw, _ := json.Marshal(tc.body)
		resp, err := http.Post(fake.URL+"/hooks/commands/1", "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		want, wantBody := http.StatusBadRequest, tc.code
		if tc.code == "" {
			want, wantBody = http.StatusOK, "ok"
		}
		if resp.StatusCode != want || strings.TrimSpace(b.String()) != wantBody {
			t.Errorf("response_url %v = %d %q, want %d %q", tc.code, resp.StatusCode, b.String(), want, wantBody)
		}
	}
}
