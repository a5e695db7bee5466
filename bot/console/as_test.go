package console

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
)

func runAs(t *testing.T, allow bool, input string, h Handler) string {
	t.Helper()
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader(input), Out: &out, User: admin, AllowAs: allow})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String()
}

func TestAsActsAsAnotherUser(t *testing.T) {
	h := modalHandler(func(commands.Submission) commands.SubmitResult { return commands.SubmitResult{} })
	h.command = func(c commands.Command) commands.Reply {
		if c.Text == "change" {
			return commands.Reply{Modal: changeModal()}
		}
		return commands.Reply{Blocks: alertBlocks("a.com")}
	}
	got := runAs(t, true, "/as @fiona\nstatus\n1\nchange\nFix\n1\n2030-01-01\n\n/as\nwhoami\n/as <@UDAN|dan>\n/as @alice\nstatus\n", h)

	users := func(n int, get func(int) string) []string {
		var s []string
		for i := range n {
			s = append(s, get(i))
		}
		return s
	}
	cmds := users(len(h.commands), func(i int) string { return h.commands[i].Text + "=" + h.commands[i].User.ID })
	if want := "status=UFIONA change=UFIONA whoami=ULOCAL status=ULOCAL"; strings.Join(cmds, " ") != want {
		t.Errorf("commands ran as %q, want %q", cmds, want)
	}
	if len(h.actions) != 1 || h.actions[0].User != (commands.User{ID: "UFIONA", Name: "fiona"}) {
		t.Errorf("actions %+v, want one by UFIONA", h.actions)
	}
	if len(h.submits) != 1 || h.submits[0].User.ID != "UFIONA" {
		t.Errorf("submissions %+v, want one by UFIONA", h.submits)
	}
	for _, want := range []string{
		"ops> /as @fiona\nCommands now run as @fiona (UFIONA)",
		"ops (as @fiona)> status\n",
		"ops (as @fiona)> 1\n",
		"ops (as @fiona)> /as\nCommands run as you again (@alice).\nops> whoami\n",
		"ops> /as <@UDAN|dan>\nCommands now run as @dan (UDAN)",
		"ops (as @dan)> /as @alice\nCommands run as you again (@alice).\nops> status\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestAsRefused(t *testing.T) {
	tests := []struct {
		allow bool
		line  string
		want  string
	}{
		{false, "/as @fiona", "/as is off here"},
		{true, "/as @fi ona", "/as takes one person, e.g. /as @fiona"},
		{true, "/as @<!channel>", "/as takes one person"},
		{true, "/as " + strings.Repeat("x", 41), "/as takes one person"},
	}
	for _, tt := range tests {
		h := &fakeHandler{}
		got := runAs(t, tt.allow, tt.line+"\nwhoami\n", h)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v %q: output %q, want %q in it", tt.allow, tt.line, got, tt.want)
		}
		if len(h.commands) != 1 || h.commands[0].User != admin {
			t.Errorf("%v %q: commands %+v, want whoami as the local user", tt.allow, tt.line, h.commands)
		}
		if strings.Contains(got, "(as @") {
			t.Errorf("%v %q: prompt changed:\n%s", tt.allow, tt.line, got)
		}
	}
}
