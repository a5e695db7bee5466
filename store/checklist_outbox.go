package store

// Outbox kinds of launch checklists: the one message (posted, then updated
// in place; its ts saved with SetChecklistMessage) and its thread lines.
// The payloads are those of change requests: ChangeMessage and
// ChangeThread, with the checklist's ID.
const (
	KindChecklistMessage = "checklist.message"
	KindChecklistThread  = "checklist.thread"
)
