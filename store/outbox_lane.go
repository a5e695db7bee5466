package store

import "strings"

// OutboxLane is a share of the outbox with its own due set and its own
// workers, so a slow or rate-limited destination (Slack answering 429, or
// thousands of posts due while Slack is down) never holds up another's
// deliveries (a PagerDuty resolve). Kinds match by prefix of Item.Kind.
type OutboxLane struct {
	Name  string
	Kinds []string // kind prefixes this lane delivers; none: the shared set
}

// outboxLanes are the destinations with a lane of their own. Other kinds,
// and anything queued before lanes existed, wait in the shared due set,
// which the catch-all lane drains (it delivers any kind).
var outboxLanes = []OutboxLane{
	{Name: "slack", Kinds: []string{"slack.", "change.", "checklist."}},
	{Name: "pagerduty", Kinds: []string{"pagerduty"}},
	{Name: "github", Kinds: []string{"github."}},
}

// OutboxLanes returns the destination lanes (not the catch-all).
func OutboxLanes() []OutboxLane { return append([]OutboxLane(nil), outboxLanes...) }

// laneOf is the lane kind's queues wait in; the zero lane is the shared set.
func laneOf(kind string) OutboxLane {
	for _, l := range outboxLanes {
		for _, p := range l.Kinds {
			if strings.HasPrefix(kind, p) {
				return l
			}
		}
	}
	return OutboxLane{}
}

// laneDue is the due set of lane: its own, or the shared one.
func (s *Store) laneDue(l OutboxLane) string {
	if len(l.Kinds) == 0 {
		return s.outboxDue()
	}
	return s.key("outbox", "due", l.Name)
}

// enqueueDueScript makes a queue due in its lane's set (KEYS[2]) unless it
// is still waiting in the shared set (KEYS[1]). ARGV: due ms, queue.
const enqueueDueScript = `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
end
return redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2])
`
