package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// grantScript adds a role and its audit entry atomically. The audit XADD
// runs first: if it fails (stream unwritable) the script aborts before the
// role is stored, so no privileged change ever goes unaudited.
// KEYS: user's role set, index of users with roles, audit stream.
// ARGV: member, user ID, op ("grant"|"revoke"), audit maxlen, field/value pairs...
var grantScript = redis.NewScript(`
local has = redis.call('SISMEMBER', KEYS[1], ARGV[1])
if (ARGV[3] == 'grant' and has == 1) or (ARGV[3] == 'revoke' and has == 0) then
  return 0
end
local fields = {}
for i = 5, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
if ARGV[3] == 'grant' then
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
else
  redis.call('SREM', KEYS[1], ARGV[1])
  if redis.call('SCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
end
return 1
`)

// Roles returns the grants of one user (none: deny by default): those
// FirstSeenFor read with the envelope's dedup when ctx carries them, else
// read now.
func (s *Store) Roles(ctx context.Context, userID string) ([]Grant, error) {
	if grants, ok := takePreloaded(ctx, userID); ok {
		return grants, nil
	}
	members, err := s.rdb.SMembers(ctx, s.key("roles", userID)).Result()
	if err != nil {
		return nil, wrap("roles of "+userID, err)
	}
	return grantsOf(members), nil
}

// grantsOf parses a role set's members, sorted; invalid ones are skipped.
func grantsOf(members []string) []Grant {
	grants := make([]Grant, 0, len(members))
	for _, m := range members {
		g, ok := parseMember(m)
		if ok {
			grants = append(grants, g)
		}
	}
	SortGrants(grants)
	return grants
}

// Grant gives userID the grant, writing the audit entry in the same atomic
// step. It reports false when the user already had it (nothing is written).
// Written but not confirmed by the replicas WaitReplicas asks for, it
// reports true with an ErrNotReplicated error (as Revoke, AddSilence,
// RemoveSilence and SetThreshold do with their results).
func (s *Store) Grant(ctx context.Context, actor, userID string, g Grant, now time.Time) (bool, error) {
	return s.changeRole(ctx, "grant", actor, userID, g, now)
}

// Revoke removes the grant from userID, audited like Grant. It reports false
// when the user did not have it.
func (s *Store) Revoke(ctx context.Context, actor, userID string, g Grant, now time.Time) (bool, error) {
	return s.changeRole(ctx, "revoke", actor, userID, g, now)
}

func (s *Store) changeRole(ctx context.Context, op, actor, userID string, g Grant, now time.Time) (bool, error) {
	if err := g.Validate(); err != nil {
		return false, err
	}
	e := AuditEntry{At: now, Actor: actor, Action: "role." + op, Target: userID, Role: string(g.Role), Client: g.Client}
	args := []any{g.member(), userID, op, auditMaxLen}
	args = append(args, e.fields()...)
	keys := []string{s.key("roles", userID), s.key("roles", "_users"), s.key("audit")}
	n, err := s.runAudited(ctx, fmt.Sprintf("%s %s to %s (audit first)", op, g, userID), grantScript, keys, args...)
	return n == 1, err
}

// AllGrants returns every user that holds a role, with their grants.
func (s *Store) AllGrants(ctx context.Context) (map[string][]Grant, error) {
	users, err := s.rdb.SMembers(ctx, s.key("roles", "_users")).Result()
	if err != nil {
		return nil, wrap("list role holders", err)
	}
	slices.Sort(users)
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(users))
	for i, u := range users {
		cmds[i] = pipe.SMembers(ctx, s.key("roles", u))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("list roles", err)
	}
	out := make(map[string][]Grant, len(users))
	for i, u := range users {
		for _, m := range cmds[i].Val() {
			if g, ok := parseMember(m); ok {
				out[u] = append(out[u], g)
			}
		}
		SortGrants(out[u])
	}
	return out, nil
}

func (g Grant) member() string {
	if g.Client == "" {
		return string(g.Role)
	}
	return string(g.Role) + ":" + g.Client
}

func parseMember(m string) (Grant, bool) {
	role, client, _ := strings.Cut(m, ":")
	g := Grant{Role: Role(role), Client: client}
	return g, g.Validate() == nil
}
