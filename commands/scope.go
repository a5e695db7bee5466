package commands

// Tenancy in lists: every verb that shows clients' data works on the
// clients the caller may see for its permission, and a client outside a
// stakeholder's reach is answered like one that does not exist.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/383project/opsbot/store"
)

// clientsFor are the clients perm reaches for the caller, sorted: a scoped
// caller's (a stakeholder's) own; for an unscoped grant every configured
// client and every key of withData (clients that have data without being
// configured any more).
func clientsFor[V any](c *Call, perm store.Permission, withData map[string]V) []string {
	all, scoped := c.Principal.Scope(perm)
	if !all {
		return scoped
	}
	set := map[string]bool{}
	for k := range c.r.deps.Clients {
		set[k] = true
	}
	for k := range withData {
		set[k] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// seesAll reports whether perm reaches every client for the caller (staff),
// not only some (a stakeholder's).
func (c *Call) seesAll(perm store.Permission) bool {
	all, _ := c.Principal.Scope(perm)
	return all
}

// pickClient resolves a typed client among visible (clientsFor perm): an
// exact key, else a unique prefix among them. Staff naming an unknown
// client are told so, with the list. A stakeholder gets one answer for a
// client outside their reach and for one that does not exist, naming only
// their own clients: they learn neither another client's name nor that it
// exists. verb ("/ops cost") words the examples.
func (c *Call) pickClient(perm store.Permission, word string, visible []string, verb string) (string, error) {
	w := strings.ToLower(word)
	if slices.Contains(visible, w) {
		return w, nil
	}
	var matches []string
	for _, k := range visible {
		if strings.HasPrefix(k, w) {
			matches = append(matches, k)
		}
	}
	name := Escape(truncate(word, 40))
	example := verb
	if len(visible) > 0 {
		example = verb + " " + visible[0]
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return "", userErrorf(example, "%q matches several of your clients: %s. Type more of the name.", name, strings.Join(matches, ", "))
	case !c.seesAll(perm):
		yours := "You can't see any client yet."
		if len(visible) > 0 {
			yours = "Clients you can see: " + c.clientList(visible) + "."
		}
		return "", &deniedError{reply: Reply{Text: fmt.Sprintf(":no_entry: %q is not one of the clients you can see. %s If it should be, ask an admin, e.g. `/ops role grant @you stakeholder <client>`; `%s` shows yours.",
			name, yours, verb)}}
	case len(visible) == 0:
		return "", userErrorf(verb, "I don't know a client called %q, and there are no clients configured yet.", name)
	}
	return "", userErrorf(example, "I don't know a client called %q. Clients you can see: %s.", name, c.clientList(visible))
}
