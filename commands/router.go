package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// Router is the whole /ops surface behind one authorisation gate: every
// command, button and modal submission resolves the caller's roles from the
// store at that moment and is checked against the route's permission before
// any handler runs. It never returns an error: failures become replies.
type Router struct {
	deps    Deps
	log     *slog.Logger
	verbs   map[string]*Route
	order   []*Route
	actions map[string]*ActionRoute
	modals  map[string]*ModalRoute
	steps   *stepRunner // change requests' long steps (change_step.go)
}

// New builds the router from the route table; duplicate verbs, action IDs or
// callback IDs are a programming error reported at start-up.
func New(d Deps) (*Router, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if len(d.SigningKey) < 16 {
		return nil, errors.New("commands: signing key must be at least 16 bytes")
	}
	r := &Router{deps: d, log: d.Logger, verbs: map[string]*Route{},
		actions: map[string]*ActionRoute{}, modals: map[string]*ModalRoute{}, steps: newStepRunner()}
	t := routes()
	for i := range t.verbs {
		rt := &t.verbs[i]
		if _, dup := r.verbs[rt.Verb]; dup {
			return nil, fmt.Errorf("commands: verb %q registered twice", rt.Verb)
		}
		r.verbs[rt.Verb] = rt
		r.order = append(r.order, rt)
	}
	for i := range t.actions {
		a := &t.actions[i]
		if _, dup := r.actions[a.ActionID]; dup {
			return nil, fmt.Errorf("commands: action %q registered twice", a.ActionID)
		}
		r.actions[a.ActionID] = a
	}
	for i := range t.modals {
		m := &t.modals[i]
		if _, dup := r.modals[m.CallbackID]; dup {
			return nil, fmt.Errorf("commands: modal %q registered twice", m.CallbackID)
		}
		r.modals[m.CallbackID] = m
	}
	return r, nil
}

// principal loads the caller's grants now (one Redis round trip) and adds
// the bootstrap admin grant from config.
func (r *Router) principal(ctx context.Context, userID string) (store.Principal, error) {
	grants, err := r.deps.Roles.Roles(ctx, userID)
	if err != nil {
		return store.Principal{}, err
	}
	if r.bootstrapAdmin(userID) && !slices.Contains(grants, store.Grant{Role: store.Admin}) {
		grants = append([]store.Grant{{Role: store.Admin}}, grants...)
	}
	return store.Principal{UserID: userID, Grants: grants}, nil
}

func (r *Router) bootstrapAdmin(userID string) bool { return slices.Contains(r.deps.Admins, userID) }

// Command handles one /ops invocation.
func (r *Router) Command(ctx context.Context, c Command) (reply Reply) {
	start := r.deps.Now()
	words := Tokenize(c.Text)
	verb := "help"
	if len(words) > 0 {
		verb = strings.ToLower(words[0])
		words = words[1:]
	}
	label, outcome := metricLabel(r.verbs, verb), "ok"
	defer func() { r.deps.Metrics.Command("command", label, outcome, r.deps.Now().Sub(start)) }()
	defer r.recoverPanic(&reply, &outcome, "command", c.User.ID, verb)

	if len(c.Text) > MaxTextLen {
		outcome = "user_error"
		return errorReply(&UserError{Msg: fmt.Sprintf("That command is %d characters long; the most I read is %d.", len(c.Text), MaxTextLen), Example: "/ops help"})
	}
	p, err := r.principal(ctx, c.User.ID)
	if err != nil {
		return r.fail(err, &outcome, "command", c.User.ID, verb)
	}
	rt, ok := r.verbs[verb]
	if !ok {
		outcome = "unknown"
		return r.unknownVerb(p, verb)
	}
	if !p.Can(rt.Perm) {
		outcome = "denied"
		return denied(p, rt.Perm, "run `/ops "+rt.Verb+"`")
	}
	if len(words) == 1 && strings.EqualFold(words[0], "help") {
		return verbHelp(rt)
	}
	call := &Call{Principal: p, User: c.User, ChannelID: c.ChannelID, ChannelName: c.ChannelName, TriggerID: c.TriggerID, Args: words, Now: start, r: r}
	reply, err = rt.Run(ctx, call)
	if err != nil {
		return r.fail(err, &outcome, "command", c.User.ID, verb)
	}
	r.sealModal(&reply, c.User.ID, start)
	return reply
}

// Action handles a button click. The route's permission is checked again
// here: having been shown a button grants nothing.
func (r *Router) Action(ctx context.Context, a Action) (reply Reply) {
	start := r.deps.Now()
	label, outcome := metricLabel(r.actions, a.ActionID), "ok"
	defer func() { r.deps.Metrics.Command("action", label, outcome, r.deps.Now().Sub(start)) }()
	defer r.recoverPanic(&reply, &outcome, "action", a.User.ID, a.ActionID)

	rt, ok := r.actions[a.ActionID]
	if !ok {
		outcome = "unknown"
		return Reply{Text: "That button is no longer supported. Run the command again for a fresh message."}
	}
	p, err := r.principal(ctx, a.User.ID)
	if err != nil {
		return r.fail(err, &outcome, "action", a.User.ID, a.ActionID)
	}
	if !p.Can(rt.Perm) {
		outcome = "denied"
		return denied(p, rt.Perm, "use this button")
	}
	call := &Call{Principal: p, User: a.User, ChannelID: a.ChannelID, TriggerID: a.TriggerID, Now: start, r: r}
	reply, err = rt.Run(ctx, call, a)
	if err != nil {
		return r.fail(err, &outcome, "action", a.User.ID, a.ActionID)
	}
	r.sealModal(&reply, a.User.ID, start)
	return reply
}

// Submit handles a modal submission: the seal proves this user was shown
// this modal, and the permission is checked again at this moment.
func (r *Router) Submit(ctx context.Context, s Submission) (res SubmitResult) {
	start := r.deps.Now()
	label, outcome := metricLabel(r.modals, s.CallbackID), "ok"
	defer func() { r.deps.Metrics.Command("submission", label, outcome, r.deps.Now().Sub(start)) }()
	var panicReply Reply
	defer func() {
		if !panicReply.IsZero() {
			res = SubmitResult{Notice: &panicReply}
		}
	}()
	defer r.recoverPanic(&panicReply, &outcome, "submission", s.User.ID, s.CallbackID)

	rt, ok := r.modals[s.CallbackID]
	if !ok {
		outcome = "unknown"
		return notice(Reply{Text: "That form is no longer supported. Run the command again."})
	}
	meta, nonce, err := unseal(r.deps.SigningKey, s.User.ID, s.CallbackID, s.PrivateMetadata, start)
	if err != nil {
		outcome = "denied"
		r.log.Warn("modal submission refused", "user_id", s.User.ID, "callback_id", s.CallbackID, "err", err)
		return notice(Reply{Text: ":no_entry: That form was not opened for you, or it has expired. Nothing was changed. Run the command again to get a fresh form."})
	}
	s.PrivateMetadata = meta
	p, err := r.principal(ctx, s.User.ID)
	if err != nil {
		return notice(r.fail(err, &outcome, "submission", s.User.ID, s.CallbackID))
	}
	if !p.Can(rt.Perm) {
		outcome = "denied"
		return notice(denied(p, rt.Perm, "submit this form"))
	}
	if first, err := r.claimForm(ctx, nonce); err != nil {
		return notice(r.fail(err, &outcome, "submission", s.User.ID, s.CallbackID))
	} else if !first {
		outcome = "replay"
		r.log.Info("modal submission replayed", "user_id", s.User.ID, "callback_id", s.CallbackID)
		return notice(Reply{Text: ":information_source: That form was already submitted, so nothing was changed this time. Run the command again for a fresh form."})
	}
	call := &Call{Principal: p, User: s.User, Now: start, r: r}
	res, err = rt.Run(ctx, call, s)
	if err != nil || len(res.Errors) > 0 {
		// Nothing was accepted: the same form may be sent again once fixed.
		r.releaseForm(ctx, nonce)
	}
	if err != nil {
		return notice(r.fail(err, &outcome, "submission", s.User.ID, s.CallbackID))
	}
	if len(res.Errors) > 0 {
		outcome = "user_error"
	}
	if res.Update != nil {
		res.Update.PrivateMetadata = seal(r.deps.SigningKey, s.User.ID, res.Update.CallbackID, res.Update.PrivateMetadata, start)
	}
	return res
}

// metricLabel is name when the route table knows it, else "unknown": verbs,
// action IDs and callback IDs come from Slack payloads, and a label per
// made-up one would grow /metrics without bound.
func metricLabel[V any](known map[string]V, name string) string {
	if _, ok := known[name]; ok {
		return name
	}
	return "unknown"
}

func notice(r Reply) SubmitResult { return SubmitResult{Notice: &r} }

// claimForm claims a form's nonce for as long as its seal could verify;
// first is false for a replay.
func (r *Router) claimForm(ctx context.Context, nonce string) (first bool, err error) {
	if r.deps.Nonces == nil {
		return true, nil
	}
	return r.deps.Nonces.ClaimNonce(ctx, nonce, modalLifetime+time.Minute)
}

func (r *Router) releaseForm(ctx context.Context, nonce string) {
	if r.deps.Nonces == nil {
		return
	}
	if err := r.deps.Nonces.ReleaseNonce(context.WithoutCancel(ctx), nonce); err != nil {
		r.log.Warn("form nonce not released; the form must be opened again", "err", err)
	}
}

func (r *Router) sealModal(reply *Reply, userID string, now time.Time) {
	if m := reply.Modal; m != nil {
		m.PrivateMetadata = seal(r.deps.SigningKey, userID, m.CallbackID, m.PrivateMetadata, now)
	}
}

// fail turns a handler error into what the user sees and what the log keeps.
func (r *Router) fail(err error, outcome *string, kind, userID, name string) Reply {
	var ue *UserError
	var de *deniedError
	switch {
	case errors.As(err, &de):
		*outcome = "denied"
		return de.reply
	case errors.As(err, &ue):
		*outcome = "user_error"
		return errorReply(ue)
	case errors.Is(err, store.ErrUnavailable):
		*outcome = "unavailable"
		r.log.Warn("state store unavailable", "kind", kind, "name", name, "user_id", userID, "err", err)
		return Reply{Text: ":warning: The state store (Redis) is not answering, so I can't check access or save anything right now. Nothing was changed. Try again in a minute; if it keeps happening, tell the support team."}
	case errors.Is(err, store.ErrNotReplicated):
		*outcome = "unconfirmed"
		r.log.Warn("write not confirmed by a replica", "kind", kind, "name", name, "user_id", userID, "err", err)
		return Reply{Text: ":warning: Saved on the Redis primary, but no replica confirmed it in time, so it is *not yet safely recorded*: if Redis fails over now, it could be lost. Check in a minute (`/ops audit`, or the request's message) and do it again if it is missing; if this keeps happening, tell the support team."}
	}
	*outcome = "error"
	ref := newRef()
	r.log.Error("handler failed", "ref", ref, "kind", kind, "name", name, "user_id", userID, "err", err)
	return internalErrorReply(ref)
}

func (r *Router) recoverPanic(reply *Reply, outcome *string, kind, userID, name string) {
	v := recover()
	if v == nil {
		return
	}
	ref := newRef()
	*outcome = "panic"
	r.log.Error("handler panicked", "ref", ref, "kind", kind, "name", name, "user_id", userID,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	*reply = internalErrorReply(ref)
}

func internalErrorReply(ref string) Reply {
	return Reply{Text: fmt.Sprintf(":x: Something went wrong (ref %s). It has been logged; if it happens again, give the support team this ref.", ref)}
}

func errorReply(e *UserError) Reply {
	text := ":warning: " + e.Msg
	if e.Example != "" {
		text += "\nFor example: `" + e.Example + "`"
	}
	return Reply{Text: text}
}

// denied explains a refusal: which roles would allow it and whom to ask.
func denied(p store.Principal, perm store.Permission, what string) Reply {
	var roles []string
	for _, role := range store.Roles {
		if role.Has(perm) {
			roles = append(roles, "*"+string(role)+"*")
		}
	}
	have := "you have no role yet"
	if len(p.Grants) > 0 {
		names := make([]string, len(p.Grants))
		for i, g := range p.Grants {
			names[i] = g.String()
		}
		have = "you have " + strings.Join(names, ", ")
	}
	return Reply{Text: fmt.Sprintf(":no_entry: To %s you need one of these roles: %s (%s). Ask an admin to grant it, e.g. `/ops role grant @you %s`. `/ops help` lists what you can run.",
		what, strings.Join(roles, ", "), have, suggestRole(perm))}
}

// suggestRole names the least powerful role that carries perm, for the
// example in a refusal.
func suggestRole(perm store.Permission) string {
	for _, role := range slices.Backward(store.Roles) {
		if role != store.Admin && role.Has(perm) {
			if role == store.Stakeholder {
				return "stakeholder <client>"
			}
			return string(role)
		}
	}
	return string(store.Admin)
}
