package commands

import (
	"context"
	"time"

	"github.com/383project/opsbot/store"
)

// Route is one /ops verb.
type Route struct {
	Verb    string
	Perm    store.Permission // checked by the gate before Run
	Usage   string           // the forms it takes
	Summary string           // one line for help
	Example string           // a full, correct invocation
	Run     func(ctx context.Context, c *Call) (Reply, error)
}

// ActionRoute is one interactive element (button) by action_id.
type ActionRoute struct {
	ActionID string
	Perm     store.Permission
	Run      func(ctx context.Context, c *Call, a Action) (Reply, error)
}

// ModalRoute is one modal by callback_id.
type ModalRoute struct {
	CallbackID string
	Perm       store.Permission
	Run        func(ctx context.Context, c *Call, s Submission) (SubmitResult, error)
}

type table struct {
	verbs   []Route
	actions []ActionRoute
	modals  []ModalRoute
}

// routes is the whole /ops surface in one table. Handlers needing a finer
// check (a client scope, a sub-verb) call c.Require / c.RequireFor.
func routes() table {
	return table{
		verbs: []Route{
			{Verb: "help", Perm: store.PermPublic, Usage: "help [verb]",
				Summary: "what you may run, with an example each", Example: "/ops help role", Run: runHelp},
			{Verb: "whoami", Perm: store.PermPublic, Usage: "whoami",
				Summary: "your roles and clients", Example: "/ops whoami", Run: runWhoami},
			{Verb: "home", Perm: store.PermPublic, Usage: "home",
				Summary: "your Home: what waits for you and what is broken for your clients", Example: "/ops home", Run: runHome},
			{Verb: "role", Perm: store.PermRoleManage, Usage: "role grant @user <role> [client] · role grant (opens a form) · role revoke @user <role> [client] · role list",
				Summary: "manage who may do what", Example: "/ops role grant @alice support", Run: runRole},
			{Verb: "audit", Perm: store.PermAuditRead, Usage: "audit [client] [@person] [--since 7d] [n] · audit export [YYYY-MM]",
				Summary: "every sensitive action, newest first (default 20), filtered; export sends a month as CSV to your DMs", Example: auditExample, Run: runAudit},
			{Verb: "silence", Perm: store.PermSilenceManage, Usage: "silence <client or client/site> <duration> <reason>",
				Summary: "mute a client's (or one site's) alerts for 1m to 30d", Example: silenceExample, Run: runSilence},
			{Verb: "silences", Perm: store.PermSilenceManage, Usage: "silences",
				Summary: "the active silences", Example: "/ops silences", Run: runSilences},
			{Verb: "unsilence", Perm: store.PermSilenceManage, Usage: "unsilence <id>",
				Summary: "end a silence now", Example: "/ops unsilence s-abc123", Run: runUnsilence},
			{Verb: "status", Perm: store.PermStatusView, Usage: "status [client]",
				Summary: "sites up/down, this month's uptime against the SLA, open incidents", Example: statusExample, Run: runStatus},
			{Verb: "oncall", Perm: store.PermOncallView, Usage: "oncall [schedule]",
				Summary: "who is on call now", Example: oncallExample, Run: runOncall},
			{Verb: "changelog", Perm: store.PermChangelogView, Usage: "changelog [YYYY-MM] · changelog export [YYYY-MM]",
				Summary: "the month's finished change requests; export uploads them as CSV (finance, admin)", Example: changelogExample, Run: runChangelog},
			{Verb: "cost", Perm: store.PermCostView, Usage: "cost [client] [--refresh]",
				Summary: "month to date, forecast against the quote, top services and a chart", Example: costExample, Run: runCost},
			{Verb: "change", Perm: store.PermChangeOpen, Usage: "change [GitHub issue URL]",
				Summary: "open an infrastructure change request (a form; pre-filled from the issue)", Example: changeExample, Run: runChange},
			{Verb: "changes", Perm: store.PermChangesView, Usage: "changes [client] [--mine]",
				Summary: "the open change requests", Example: changesExample, Run: runChanges},
			{Verb: "servers", Perm: store.PermServersView, Usage: "servers [client]",
				Summary: "instances and databases: state, status checks, CPU and free storage against thresholds", Example: serversExample, Run: runServers},
			{Verb: "threshold", Perm: store.PermThresholdList, Usage: "threshold list [client] · threshold set <client> <metric> <value> (admin)",
				Summary: "alert thresholds of the server monitor and where each comes from; set overrides one (cpu, free_storage_gb, periods, spike_factor)", Example: thresholdExample, Run: runThreshold},
			{Verb: "scan", Perm: store.PermScanRun, Usage: "scan <client>",
				Summary: "start a Detectify scan of the client's profiles; one message in the security channel shows its progress, then what it found", Example: scanExample, Run: runScan},
			{Verb: "findings", Perm: store.PermFindingsView, Usage: "findings [client] [--severity high] [--all] · findings accept <id> <duration> <reason> [--false-positive] (security, admin)",
				Summary: "open Detectify findings, worst first (--severity: that level and worse; --all: accepted and fixed ones too); accept quietens one until a date (at most 30d), audited, and it alerts again if still open then", Example: findingsExample, Run: runFindings},
			{Verb: "shield", Perm: store.PermShieldView, Usage: "shield [client] [--refresh]",
				Summary: "is every EC2 instance covered by AWS Shield? A verdict per instance", Example: shieldExample, Run: runShield},
			{Verb: "training", Perm: store.PermTrainingOwn, Usage: "training [@user] · training record @user <course> <YYYY-MM-DD> <evidence> (security, admin)",
				Summary: "security-training status: yours, or the team's table for security and admin; record training done elsewhere", Example: trainingExample, Run: runTraining},
			{Verb: "checklist", Perm: store.PermChecklistView, Usage: "checklist new <client> [template] (support, admin) · checklist [client] · checklist show <id>",
				Summary: "pre-launch checklists: verified and attested items, waivers, sign-off", Example: checklistExample, Run: runChecklist},
			{Verb: "freeze", Perm: store.PermFreezeView, Usage: "freeze",
				Summary: "the active deploy freezes (CI asks GET /v1/freeze?repo=owner/name)", Example: "/ops freeze", Run: runFreeze},
		},
		actions: []ActionRoute{
			{ActionID: actionRoleUndo, Perm: store.PermRoleManage, Run: runRoleUndo},
			{ActionID: actionAlertAck, Perm: store.PermIncidentManage, Run: runAlertAck},
			{ActionID: actionAlertResolve, Perm: store.PermIncidentManage, Run: runAlertResolve},
			{ActionID: actionAlertSilence, Perm: store.PermSilenceManage, Run: runAlertSilence},
			{ActionID: actionChangeStep, Perm: store.PermChangeRun, Run: runChangeStep},
			{ActionID: actionChangePropose, Perm: store.PermChangeRun, Run: runChangePropose},
			{ActionID: actionChangeApprove, Perm: store.PermChangeApprove, Run: runChangeApprove},
			{ActionID: actionChangeReject, Perm: store.PermChangeApprove, Run: runChangeReject},
			{ActionID: actionChangeSmoke, Perm: store.PermChangeRun, Run: runChangeSmoke},
			{ActionID: actionChangeSmokeRun, Perm: store.PermChangeRun, Run: runChangeSmokeRun},
			{ActionID: actionChangeWaive, Perm: store.PermChangeRun, Run: runChangeWaive},
			{ActionID: actionChangeCutOver, Perm: store.PermChangeRun, Run: runChangeCutOver},
			{ActionID: actionChangeRollback, Perm: store.PermChangeRun, Run: runChangeRollback},
			{ActionID: actionChangeRestore, Perm: store.PermChangeRun, Run: runChangeRestore},
			{ActionID: actionChangeCancel, Perm: store.PermChangeOpen, Run: runChangeCancel},
			{ActionID: actionChecklistVerify, Perm: store.PermChecklistView, Run: runChecklistVerify},
			{ActionID: actionChecklistSignOff, Perm: store.PermLaunchSignoff, Run: runChecklistSignOff},
			{ActionID: actionChecklistAttest, Perm: store.PermChecklistView, Run: runChecklistAttest},
			{ActionID: actionChecklistWaive, Perm: store.PermChecklistView, Run: runChecklistWaive},
			{ActionID: actionChecklistApprove, Perm: store.PermChecklistView, Run: runChecklistApprove},
			{ActionID: actionChangeFromLink, Perm: store.PermChangeOpen, Run: runChangeFromLink},
		},
		modals: []ModalRoute{
			{CallbackID: callbackRoleGrant, Perm: store.PermRoleManage, Run: submitRoleGrant},
			{CallbackID: callbackChangeOpen, Perm: store.PermChangeOpen, Run: submitChangeOpen},
			{CallbackID: callbackChangePropose, Perm: store.PermChangeRun, Run: submitChangePropose},
			{CallbackID: callbackChangeApprove, Perm: store.PermChangeApprove, Run: submitChangeApprove},
			{CallbackID: callbackChangeReject, Perm: store.PermChangeApprove, Run: submitChangeReject},
			{CallbackID: callbackChangeSmoke, Perm: store.PermChangeRun, Run: submitChangeSmoke},
			{CallbackID: callbackChecklistWaive, Perm: store.PermChecklistView, Run: submitChecklistWaiver},
			{CallbackID: callbackChecklistEvidence, Perm: store.PermChecklistView, Run: submitChecklistEvidence},
			{CallbackID: callbackChangeReason, Perm: store.PermChangeOpen, Run: submitChangeReason},
		},
	}
}

// Call is one authorised invocation: the caller's principal as loaded at this
// moment, and what they typed.
type Call struct {
	Principal   store.Principal
	User        User
	ChannelID   string
	ChannelName string // as Slack sent it with a command ("" for buttons and forms)
	TriggerID   string
	Args        []string // words after the verb
	Now         time.Time
	r           *Router
}

// Require refuses unless the caller holds perm (for sub-verbs with their own rule).
func (c *Call) Require(perm store.Permission, what string) error {
	if c.Principal.Can(perm) {
		return nil
	}
	return &deniedError{reply: denied(c.Principal, perm, what)}
}

// deniedError carries a refusal out of a handler.
type deniedError struct{ reply Reply }

func (e *deniedError) Error() string { return e.reply.Text }
