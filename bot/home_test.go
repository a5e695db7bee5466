package bot_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// homeUsers is an in-memory HomeUsers.
type homeUsers struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (u *homeUsers) NoteHomeUser(_ context.Context, id string, at time.Time) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen[id] = at
	return nil
}

func (u *homeUsers) HomeUsers(_ context.Context, since time.Time) ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for id, at := range u.seen {
		if !at.Before(since) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

type homeBuilder struct{}

func (homeBuilder) Home(_ context.Context, u commands.User) (slack.HomeTabViewRequest, error) {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Home of "+u.ID, false, false), nil, nil)}}}, nil
}

// published records each publish: who, and how long after the start.
type published struct {
	mu    sync.Mutex
	start time.Time
	calls []string
	at    []time.Duration
}

func (p *published) publish(_ context.Context, id string, _ slack.HomeTabViewRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, id)
	p.at = append(p.at, time.Since(p.start))
	return nil
}

func (p *published) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c == id {
			n++
		}
	}
	return n
}

func TestHomePublishesOncePerPersonPerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		users := &homeUsers{seen: map[string]time.Time{}}
		pub := &published{start: time.Now()}
		h := bot.NewHome(users, pub.publish, bot.HomeOptions{Window: 5 * time.Second, Gather: 2 * time.Second})
		h.Serve(homeBuilder{})
		go func() { _ = h.Run(ctx) }()

		h.Opened(ctx, "UALICE0001") // published at once
		synctest.Wait()
		if n := pub.count("UALICE0001"); n != 1 {
			t.Fatalf("%d publishes when Home was opened, want 1", n)
		}
		time.Sleep(time.Second)
		h.Opened(ctx, "UALICE0001") // within the window: once, at its end
		h.Opened(ctx, "UBOB000001")
		synctest.Wait()
		if a, b := pub.count("UALICE0001"), pub.count("UBOB000001"); a != 1 || b != 1 {
			t.Fatalf("alice %d, bob %d publishes; want 1 each so far", a, b)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := pub.count("UALICE0001"); n != 2 || pub.at[len(pub.at)-1] != 5*time.Second {
			t.Fatalf("alice: %d publishes at %v; want the second at 5s", n, pub.at)
		}

		// A burst of ten changes (alerts firing): one publish per person.
		time.Sleep(10 * time.Second)
		for range 10 {
			h.Changed()
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if a, b := pub.count("UALICE0001"), pub.count("UBOB000001"); a != 3 || b != 2 {
			t.Fatalf("after a burst of changes: alice %d, bob %d publishes; want one more each (3, 2)", a, b)
		}
	})
}
