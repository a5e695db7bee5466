package commands

// The lines of `/ops servers`: one per instance or database, the counts,
// and the status word of each resource against its client's thresholds.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/383project/opsbot/store"
)

// gib is how RDS counts storage; free_storage_gb thresholds are in GiB.
const gib = 1 << 30

// Resource classes, most urgent first.
const (
	classDown     = 0 // failed status check, failed database
	classDegraded = 1 // CPU above or free storage below the threshold
	classOther    = 3 // stopped, pending, terminated, no data
	classOK       = 5
)

// dbDown are RDS statuses in which the database does not serve.
var dbDown = []string{"failed", "storage-full", "inaccessible-encryption-credentials", "incompatible-network",
	"incompatible-option-group", "incompatible-parameters", "incompatible-restore", "restore-error"}

// resourceClass places a resource against eff.
func resourceClass(r store.ServerResource, eff store.EffectiveThresholds) int {
	class, _ := resourceStatus(r, eff)
	return class
}

// resourceStatus is the class and the emoji and word (never colour alone).
func resourceStatus(r store.ServerResource, eff store.EffectiveThresholds) (int, string) {
	switch {
	case r.Kind == store.ResourceInstance && (r.SystemStatus == "impaired" || r.InstanceStatus == "impaired"):
		return classDown, "🔴 *status check failed*"
	case r.Kind == store.ResourceDatabase && slices.Contains(dbDown, r.State):
		return classDown, "🔴 *" + Escape(r.State) + "*"
	case r.Kind == store.ResourceInstance && r.State != "running":
		return classOther, "⚪ *" + Escape(stateOr(r.State)) + "*"
	}
	if cpu, ok := r.Metric(store.MetricCPU); ok && eff.CPU > 0 && cpu.Value > eff.CPU {
		return classDegraded, "🟠 *CPU high*"
	}
	if free, ok := r.Metric(store.MetricFreeStorage); ok && r.Kind == store.ResourceDatabase && free.Value/gib < eff.FreeStorageGB {
		return classDegraded, "🟠 *storage low*"
	}
	if r.Kind == store.ResourceDatabase && r.State != "available" {
		return classOther, "⚪ *" + Escape(stateOr(r.State)) + "*"
	}
	return classOK, "🟢 *ok*"
}

func stateOr(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func classEmoji(class int) string {
	switch class {
	case classDown:
		return "🔴"
	case classDegraded:
		return "🟠"
	case classOK:
		return "🟢"
	}
	return "⚪"
}

// sortedResources orders resources most urgent first, then instances
// before databases, then by name.
func sortedResources(rs []store.ServerResource, eff store.EffectiveThresholds) []store.ServerResource {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b store.ServerResource) int {
		if d := resourceClass(a, eff) - resourceClass(b, eff); d != 0 {
			return d
		}
		if a.Kind != b.Kind {
			return strings.Compare(b.Kind, a.Kind) // "instance" before "database"
		}
		return strings.Compare(a.Name+a.ID, b.Name+b.ID)
	})
	return out
}

// resourceSummary is "3 instances, 1 database: 1 🔴 down, 2 🟢 ok".
func resourceSummary(rs []store.ServerResource, eff store.EffectiveThresholds) string {
	var inst, dbs int
	counts := map[int]int{}
	for _, r := range rs {
		if r.Kind == store.ResourceDatabase {
			dbs++
		} else {
			inst++
		}
		counts[resourceClass(r, eff)]++
	}
	return summaryText(inst, dbs, counts)
}

func summaryText(inst, dbs int, counts map[int]int) string {
	out := plural(inst, "instance") + ", " + plural(dbs, "database")
	if inst+dbs == 0 {
		return out
	}
	var parts []string
	for _, c := range []struct {
		class int
		word  string
	}{{classDown, "🔴 down"}, {classDegraded, "🟠 over threshold"}, {classOther, "⚪ stopped or not ready"}, {classOK, "🟢 ok"}} {
		if n := counts[c.class]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.word))
		}
	}
	return out + ": " + strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// resourceLine is one instance or database with its state, status checks,
// CPU and free storage against the thresholds.
func resourceLine(r store.ServerResource, eff store.EffectiveThresholds) string {
	_, word := resourceStatus(r, eff)
	name := "`" + Escape(r.ID) + "`"
	if r.Name != "" && r.Name != r.ID {
		name = "*" + Escape(truncate(r.Name, 60)) + "* " + name
	}
	facts := []string{strings.TrimSpace(Escape(r.Type + " " + r.Engine)), Escape(stateOr(r.State)), Escape(r.Region)}
	facts = slices.DeleteFunc(facts, func(s string) bool { return s == "" })
	parts := []string{word + " " + name + " — " + strings.Join(facts, ", ")}
	if r.Kind == store.ResourceInstance && r.State == "running" {
		parts = append(parts, "status checks: system "+Escape(stateOr(r.SystemStatus))+", instance "+Escape(stateOr(r.InstanceStatus)))
	}
	if cpu, ok := r.Metric(store.MetricCPU); ok {
		parts = append(parts, fmt.Sprintf("CPU %s (alerts above %s)", oneDecimal(cpu.Value)+" %", store.FormatThreshold(store.ThresholdCPU, eff.CPU)))
	} else if r.State == "running" || r.State == "available" {
		parts = append(parts, "CPU no data")
	}
	if r.Kind == store.ResourceDatabase {
		if free, ok := r.Metric(store.MetricFreeStorage); ok {
			parts = append(parts, fmt.Sprintf("free storage %s GB of %s GB (alerts below %s)", oneDecimal(free.Value/gib),
				oneDecimal(float64(r.StorageBytes)/gib), store.FormatThreshold(store.ThresholdFreeStorageGB, eff.FreeStorageGB)))
		} else {
			parts = append(parts, "free storage no data")
		}
	}
	return strings.Join(parts, " · ")
}

func oneDecimal(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
