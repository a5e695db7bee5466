package commands

import (
	"regexp"
	"strings"
)

// ChecklistArgs is `/ops checklist ...` parsed.
type ChecklistArgs struct {
	Sub      string // "new", "show" or "list"
	Client   string // new: the client typed; list: the optional filter
	Template string // new: the template (default "default")
	ID       string // show: the launch ID, upper-cased (L-12)
}

var reChecklistID = regexp.MustCompile(`^L-[1-9][0-9]{0,9}$`)

// ParseChecklistArgs reads the words after `checklist`. It checks the
// shape only; the client and template are resolved against config after.
func ParseChecklistArgs(args []string) (ChecklistArgs, error) {
	if len(args) == 0 {
		return ChecklistArgs{Sub: "list"}, nil
	}
	switch sub := strings.ToLower(args[0]); sub {
	case "new":
		switch len(args) {
		case 1:
			return ChecklistArgs{}, userErrorf(checklistExample, "Name the client whose launch this is.")
		case 2, 3:
			a := ChecklistArgs{Sub: "new", Client: args[1], Template: "default"}
			if len(args) == 3 {
				a.Template = strings.ToLower(args[2])
			}
			return a, nil
		}
		return ChecklistArgs{}, userErrorf(checklistExample+" default", "`/ops checklist new` takes a client and, optionally, a template.")
	case "show":
		if len(args) != 2 {
			return ChecklistArgs{}, userErrorf("/ops checklist show L-3", "Name one launch checklist by its ID.")
		}
		id := strings.ToUpper(args[1])
		if !reChecklistID.MatchString(id) {
			return ChecklistArgs{}, userErrorf("/ops checklist show L-3", "%q is not a launch checklist ID (like L-3).", Escape(truncate(args[1], 20)))
		}
		return ChecklistArgs{Sub: "show", ID: id}, nil
	}
	if len(args) > 1 {
		return ChecklistArgs{}, userErrorf("/ops checklist acme", "`/ops checklist` takes at most one client; to open one: `%s`.", checklistExample)
	}
	if strings.HasPrefix(args[0], "-") {
		return ChecklistArgs{}, userErrorf("/ops checklist acme", "`/ops checklist` has no option %q.", Escape(truncate(args[0], 30)))
	}
	return ChecklistArgs{Sub: "list", Client: args[0]}, nil
}
