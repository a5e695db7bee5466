package bot_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"
)

// manifest is the part of deploy/slack-manifest.yaml the code must match.
type manifest struct {
	Features struct {
		AppHome struct {
			HomeTab     bool `yaml:"home_tab_enabled"`
			MessagesTab bool `yaml:"messages_tab_enabled"`
		} `yaml:"app_home"`
		SlashCommands []struct {
			Command string `yaml:"command"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			Bot []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// methodScopes maps each slack-go Web API method the bot may call to the bot
// scopes it needs (https://docs.slack.dev/reference/methods). A call missing
// here fails the test: look the method up and add it.
var methodScopes = map[string][]string{
	"AuthTestContext":            nil,
	"PostMessageContext":         {"chat:write", "chat:write.public"}, // alerts go to configured channels the bot never joined
	"UpdateMessageContext":       {"chat:write"},
	"PostEphemeralContext":       {"chat:write"},
	"DeleteMessageContext":       {"chat:write"},
	"GetUsersContext":            {"users:read"},
	"GetUserInfoContext":         {"users:read", "users:read.email"}, // read for the email (commands.Emails)
	"GetUserByEmailContext":      {"users:read.email"},
	"OpenConversationContext":    {"im:write"},
	"GetConversationsContext":    {"channels:read", "groups:read"},
	"GetConversationInfoContext": {"channels:read", "groups:read"},
	// A retried post looks for its earlier self in channels, private
	// channels and DMs alike.
	"GetConversationHistoryContext": {"channels:history", "groups:history", "im:history"},
	"GetConversationRepliesContext": {"channels:history", "groups:history", "im:history"},
	"JoinConversationContext":       {"channels:join"}, // to read a public channel it posts to without being in it
	"UploadFileContext":             {"files:write"},
	"UnfurlMessageContext":          {"links:write"},
	"UnfurlMessageByIDContext":      {"links:write"},
	"OpenViewContext":               nil,
	"UpdateViewContext":             nil,
	"PushViewContext":               nil,
	"PublishViewContext":            nil,
	"AddReactionContext":            {"reactions:write"},
	"GetPermalinkContext":           nil,
}

// typeUses maps a payload type the bot handles to the scopes and events it
// needs: what Slack sends only to an app that asked for it.
var typeUses = map[string]struct{ scopes, events []string }{
	"slack.SlashCommand":             {scopes: []string{"commands"}},
	"slackevents.LinkSharedEvent":    {scopes: []string{"links:read"}, events: []string{"link_shared"}},
	"slackevents.MessageEvent":       {scopes: []string{"im:history"}, events: []string{"message.im"}},
	"slackevents.AppHomeOpenedEvent": {events: []string{"app_home_opened"}},
	"slackevents.AppMentionEvent":    {scopes: []string{"app_mentions:read"}, events: []string{"app_mention"}},
}

// codeUses scans the non-test Go files of bot/ for slack-go Web API calls
// and handled payload types; it returns the Web API methods called and the
// payload types named.
func codeUses(t *testing.T) (methods, types map[string]bool) {
	t.Helper()
	client := map[string]bool{}
	ct := reflect.TypeOf(&slack.Client{})
	for i := range ct.NumMethod() {
		client[ct.Method(i).Name] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	methods, types = map[string]bool{}, map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "slack" || pkg.Name == "slackevents") {
				if _, known := typeUses[pkg.Name+"."+sel.Sel.Name]; known {
					types[pkg.Name+"."+sel.Sel.Name] = true
				}
				return true
			}
			// Any x.M where M is a Web API method of *slack.Client (the
			// Context form, or the plain form that has one).
			m := sel.Sel.Name
			if !strings.HasSuffix(m, "Context") && client[m+"Context"] {
				m += "Context"
			}
			if strings.HasSuffix(m, "Context") && client[m] {
				methods[m] = true
			}
			return true
		})
	}
	if len(methods) < 3 {
		t.Fatalf("found only %v: is the test running in bot/?", methods)
	}
	return methods, types
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile("../deploy/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("slack-manifest.yaml: %v", err)
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The manifest asks Slack for exactly the scopes and events the code needs:
// none missing (a call would fail with missing_scope, an event never come),
// none unused (every extra scope is access opsbot holds for nothing).
func TestManifestMatchesCode(t *testing.T) {
	methods, types := codeUses(t)
	needScopes, needEvents := map[string]bool{}, map[string]bool{}
	for m := range methods {
		scopes, ok := methodScopes[m]
		if !ok {
			t.Errorf("bot/ calls slack-go %s, which has no entry in methodScopes: add the scopes it needs", m)
		}
		for _, s := range scopes {
			needScopes[s] = true
		}
	}
	for typ := range types {
		for _, s := range typeUses[typ].scopes {
			needScopes[s] = true
		}
		for _, e := range typeUses[typ].events {
			needEvents[e] = true
		}
	}
	man := readManifest(t)
	have := map[string]bool{}
	for _, s := range man.OAuth.Scopes.Bot {
		if have[s] {
			t.Errorf("scope %s listed twice", s)
		}
		have[s] = true
	}
	for _, s := range sortedKeys(needScopes) {
		if !have[s] {
			t.Errorf("the code needs scope %s; the manifest lacks it", s)
		}
	}
	for _, s := range sortedKeys(have) {
		if !needScopes[s] {
			t.Errorf("the manifest asks for scope %s, which no code uses: remove it", s)
		}
	}
	events := map[string]bool{}
	for _, e := range man.Settings.Events.Bot {
		events[e] = true
	}
	if got, want := sortedKeys(events), sortedKeys(needEvents); !slices.Equal(got, want) {
		t.Errorf("bot events = %v, the code handles %v", got, want)
	}
	if home := methods["PublishViewContext"]; man.Features.AppHome.HomeTab != home {
		t.Errorf("home_tab_enabled = %v, but the code publishes a Home view: %v", man.Features.AppHome.HomeTab, home)
	}
	if dm := types["slackevents.MessageEvent"]; man.Features.AppHome.MessagesTab != dm {
		t.Errorf("messages_tab_enabled = %v, but the code answers DMs: %v", man.Features.AppHome.MessagesTab, dm)
	}
	if len(man.Features.SlashCommands) != 1 || man.Features.SlashCommands[0].Command != "/ops" {
		t.Errorf("slash commands = %+v, want /ops only", man.Features.SlashCommands)
	}
	if !man.Settings.Interactivity.Enabled || !man.Settings.SocketMode {
		t.Error("interactivity and socket mode must be on: buttons and forms arrive over Socket Mode")
	}
}
