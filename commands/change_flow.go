package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// changeStep is one change to a request made by a person: fn changes the
// request through its methods and may name extra deliveries.
type changeStep func(cr *store.ChangeRequest) (extra []store.OutboxItem, err error)

// transition applies step to request id and queues, in the same
// transaction, everything that announces it: the request's message
// updated in place, a thread line per history event, the GitHub issue's
// status comment when the state changed, the people its new state concerns
// (audienceNotices), and, when the request ends, its
// change log entry to finance. The store writes each event's audit entry
// and, when the request ends, closes its deploy freeze in that same
// transaction. Errors of the state machine become user errors.
func (c *Call) transition(ctx context.Context, id string, step changeStep) (store.ChangeRequest, error) {
	st, err := c.changes()
	if err != nil {
		return store.ChangeRequest{}, err
	}
	now := c.r.deps.Now()
	var grants map[string][]store.Grant // who to tell, read before the transaction
	if c.r.deps.Roles != nil {
		if grants, err = c.r.deps.Roles.AllGrants(ctx); err != nil {
			return store.ChangeRequest{}, err
		}
	}
	cr, err := st.UpdateChange(ctx, id, now, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		before, state := len(cr.History), cr.State
		wasOpen := !cr.State.Terminal()
		extra, err := step(cr)
		if err != nil {
			return nil, err
		}
		items, err := c.announce(*cr, cr.History[min(before, len(cr.History)):], now)
		if err != nil {
			return nil, err
		}
		told, err := c.audienceNotices(state, *cr, grants, now)
		if err != nil {
			return nil, err
		}
		items = append(items, told...)
		if wasOpen && cr.State.Terminal() {
			if fin := c.r.deps.ChangeSettings.FinanceChannel; fin != "" {
				it, err := store.NewOutboxItem(store.KindSlackPost, "changelog/"+cr.ID,
					store.PostPayload{Channel: fin, Text: changeLogPost(c, *cr, now)}, now)
				if err != nil {
					return nil, err
				}
				items = append(items, it)
			}
		}
		return append(items, extra...), nil
	})
	if err != nil && !errors.Is(err, store.ErrNotReplicated) {
		return cr, changeError(err)
	}
	// Saved (perhaps on the primary only: err says so, and the router tells
	// the person); what follows is due either way.
	c.r.nudge()
	return cr, err
}

// changeError turns refusals of the state machine into user errors.
func changeError(err error) error {
	var se *store.StateError
	var busy *store.StepBusyError
	switch {
	case errors.As(err, &busy):
		return &UserError{Msg: upperFirst(err.Error()) + ". Nothing was changed."}
	case errors.As(err, &se):
		return &UserError{Msg: "That can't be done now: " + err.Error() + ". The request's message shows what can be done next.", Example: "/ops changes"}
	case errors.Is(err, store.ErrChangeNotFound):
		return &UserError{Msg: "That change request does not exist.", Example: "/ops changes"}
	case errors.Is(err, store.ErrFourEyes), errors.Is(err, store.ErrStaleProposal), errors.Is(err, store.ErrReasonRequired),
		errors.Is(err, store.ErrApprovalExpired), errors.Is(err, store.ErrNotApprover), errors.Is(err, store.ErrInvalidChange),
		errors.Is(err, store.ErrSmokeNotPassed), errors.Is(err, store.ErrNothingKept), errors.Is(err, store.ErrBasisReason):
		return &UserError{Msg: upperFirst(err.Error()) + ". Nothing was changed."}
	}
	return err
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// announce builds the deliveries of a request's new events.
func (c *Call) announce(cr store.ChangeRequest, events []store.ChangeEvent, now time.Time) ([]store.OutboxItem, error) {
	msg, err := c.r.changeMessageItem(cr, now)
	if err != nil {
		return nil, err
	}
	items := []store.OutboxItem{msg}
	subject := "change/" + cr.ID
	moved := false
	for _, e := range events {
		it, err := store.NewOutboxItem(store.KindChangeThread, subject, store.ChangeThread{ID: cr.ID, Text: threadText(e)}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		moved = moved || e.From != e.To
	}
	mode := c.r.deps.ChangeSettings.IssueComments[cr.Client]
	if cr.Issue != "" && moved && mode != commentsOff {
		body := githubStatus(cr, mode == commentsFull)
		it, err := store.NewOutboxItem(store.KindGitHubComment, "github/"+cr.ID, store.GitHubComment{Issue: cr.Issue, ChangeID: cr.ID, Body: body}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// changeMessageItem renders the request's one message for the outbox.
func (r *Router) changeMessageItem(cr store.ChangeRequest, now time.Time) (store.OutboxItem, error) {
	text, blocks := r.changeMessage(cr, now)
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("render %s: %w", cr.ID, err)
	}
	channel := cr.Channel
	if channel == "" {
		channel = r.deps.ChangeSettings.Channel
	}
	return store.NewOutboxItem(store.KindChangeMessage, "change/"+cr.ID, store.ChangeMessage{ID: cr.ID, Channel: channel, Text: text, Blocks: raw}, now)
}

// threadText is one history line in the message's thread.
func threadText(e store.ChangeEvent) string {
	who := "opsbot"
	if e.By != "" {
		who = mention(e.By)
	}
	var what string
	switch {
	case e.From == "":
		what = "opened the request"
	case e.From != e.To:
		what = stateEmoji(e.To) + " " + stateLabel(e.From) + " → *" + stateLabel(e.To) + "*"
	}
	if e.Note != "" {
		if what != "" {
			what += ": "
		}
		what += Escape(truncate(e.Note, 2800))
	}
	return slackDate(e.At) + " · " + who + " " + what
}

// changeLogPost is the change log entry posted to finance when a request ends.
func changeLogPost(c *Call, cr store.ChangeRequest, now time.Time) string {
	e := store.NewChangeLogEntry(cr, cr.Outcome(), now)
	lines := []string{fmt.Sprintf("🗒️ *Change log:* %s · %s · %s — *%s*", Escape(e.ID), c.clientName(e.Client), Escape(truncate(e.Title, 120)), e.Outcome)}
	if e.Delta != "" {
		lines = append(lines, "Cost: "+e.CurrentMonthly.String()+" → "+e.ProposedMonthly.String()+" ("+e.Delta+")")
	}
	people := "Requested by " + mention(e.Requester)
	if e.Proposer != "" {
		people += " · proposed by " + mention(e.Proposer)
	}
	for _, a := range e.Approvers {
		people += " · approved by " + mention(a.By) + " (" + a.Role + ")"
	}
	if e.RejectedBy != "" {
		people += " · rejected by " + mention(e.RejectedBy)
	}
	lines = append(lines, people)
	if e.Reason != "" {
		lines = append(lines, "Reason: "+Escape(truncate(e.Reason, 500)))
	}
	lines = append(lines, "Listed in `/ops changelog "+e.Month()+"`.")
	return strings.Join(lines, "\n")
}

// nudge wakes the outbox, if one is wired.
func (r *Router) nudge() {
	if r.deps.Nudge != nil {
		r.deps.Nudge()
	}
}
