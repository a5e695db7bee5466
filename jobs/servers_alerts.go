package jobs

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// Alert metrics of a server subject ("server/<client>/<id>/<metric>").
const (
	serverStatus      = "status"       // EC2 status checks (critical)
	serverCPU         = "cpu"          // CPU above the threshold for N periods
	serverFreeStorage = "free_storage" // RDS free storage below the threshold for N periods
	serverNoData      = "nodata"       // CloudWatch sent no data for N periods
)

// gib is how RDS counts storage: free_storage_gb thresholds are in GiB.
const gib = 1 << 30

// ServerAlertKey is the alert key of one metric of one resource.
func ServerAlertKey(client, resourceID, metric string) string {
	return "server/" + client + "/" + resourceID + "/" + metric
}

// serverRound holds what one client's observations share.
type serverRound struct {
	s        *Servers
	c        ServerClient
	eff      store.EffectiveThresholds
	silences []store.Silence
	loaded   bool
	launched map[string]time.Time // EC2 launch times, from the snapshot
}

// observe feeds every resource's checks to the Alerter: status checks once
// per round, CPU and free storage once per new CloudWatch period (so a
// breach "for N periods" counts periods, whatever the job's interval).
// Resources that stopped or vanished observe healthy, so their alerts resolve.
func (s *Servers) observe(ctx context.Context, c ServerClient, prev, rec store.ServerRecord, snap integrations.ServerSnapshot, eff store.EffectiveThresholds, at time.Time) error {
	round := &serverRound{s: s, c: c, eff: eff, launched: map[string]time.Time{}}
	for _, i := range snap.Instances {
		round.launched[i.ID] = i.LaunchedAt
	}
	series := map[string]integrations.MetricSeries{}
	for _, m := range snap.Metrics {
		series[m.Resource+"/"+m.Metric] = m
	}
	before := map[string]store.ServerResource{}
	for _, r := range prev.Resources {
		before[r.ID] = r
	}
	seen := map[string]bool{}
	for _, r := range rec.Resources {
		seen[r.ID] = true
		if err := round.resource(ctx, r, before[r.ID], series, at); err != nil {
			return err
		}
	}
	for _, r := range prev.Resources {
		if !seen[r.ID] {
			if err := round.allOK(ctx, r, at); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rd *serverRound) resource(ctx context.Context, r, was store.ServerResource, series map[string]integrations.MetricSeries, at time.Time) error {
	if !present(r) || (r.Kind == store.ResourceInstance && r.State != "running") {
		return rd.allOK(ctx, r, at)
	}
	if r.Kind == store.ResourceInstance && rd.c.StatusChecks {
		failed := r.SystemStatus == "impaired" || r.InstanceStatus == "impaired"
		why := fmt.Sprintf("EC2 status checks failed: system %s, instance %s", cmp.Or(r.SystemStatus, "unknown"), cmp.Or(r.InstanceStatus, "unknown"))
		if err := rd.check(ctx, r, serverStatus, !failed, why, at); err != nil {
			return err
		}
	}
	if why, none := rd.noData(r, was, series[r.ID+"/"+store.MetricCPU], at); none {
		return rd.stale(ctx, r, why, at)
	}
	if err := rd.check(ctx, r, serverNoData, true, "", at); err != nil {
		return err
	}
	for _, p := range rd.newPoints(series[r.ID+"/"+store.MetricCPU], was, store.MetricCPU) {
		ok := p.Value <= rd.eff.CPU
		why := fmt.Sprintf("CPU %s %% is above the %s threshold", num(p.Value), store.FormatThreshold(store.ThresholdCPU, rd.eff.CPU))
		if err := rd.check(ctx, r, serverCPU, ok, why, p.At); err != nil {
			return err
		}
	}
	if r.Kind != store.ResourceDatabase {
		return nil
	}
	for _, p := range rd.newPoints(series[r.ID+"/"+store.MetricFreeStorage], was, store.MetricFreeStorage) {
		ok := p.Value/gib >= rd.eff.FreeStorageGB
		why := fmt.Sprintf("free storage %s GB is below the %s threshold", num(p.Value/gib), store.FormatThreshold(store.ThresholdFreeStorageGB, rd.eff.FreeStorageGB))
		if err := rd.check(ctx, r, serverFreeStorage, ok, why, p.At); err != nil {
			return err
		}
	}
	return nil
}

// newPoints are the series' points newer than the last round saw, at most
// the last Periods of them (older ones cannot change the outcome).
func (rd *serverRound) newPoints(m integrations.MetricSeries, was store.ServerResource, metric string) []integrations.MetricPoint {
	last, _ := was.Metric(metric)
	pts := m.Points
	i := len(pts)
	for i > 0 && pts[i-1].At.After(last.At) {
		i--
	}
	pts = pts[i:]
	if n := max(rd.eff.Periods, 1); len(pts) > n {
		pts = pts[len(pts)-n:]
	}
	return pts
}

// allOK observes every metric of r healthy (stopped, terminated, vanished).
func (rd *serverRound) allOK(ctx context.Context, r store.ServerResource, at time.Time) error {
	metrics := []string{serverCPU, serverNoData}
	if r.Kind == store.ResourceInstance {
		metrics = append(metrics, serverStatus)
	} else {
		metrics = append(metrics, serverFreeStorage)
	}
	for _, m := range metrics {
		if err := rd.check(ctx, r, m, true, "", at); err != nil {
			return err
		}
	}
	return nil
}

// check observes one metric of one resource through the shared Alerter.
func (rd *serverRound) check(ctx context.Context, r store.ServerResource, metric string, ok bool, why string, at time.Time) error {
	silenced := false
	if !ok {
		if !rd.loaded {
			sils, err := rd.s.st.Mutes(ctx, at)
			if err != nil {
				return fmt.Errorf("jobs: servers %s: silences: %w", rd.c.Key, err)
			}
			rd.silences, rd.loaded = sils, true
		}
		for _, sil := range rd.silences {
			silenced = silenced || sil.Matches(rd.c.Key, r.ID, at)
		}
	}
	_, err := rd.s.al.Observe(ctx, rd.subject(r, metric), ok, why, at, silenced)
	return err
}

// subject describes one metric of one resource to the Alerter.
func (rd *serverRound) subject(r store.ServerResource, metric string) Subject {
	what := map[string]string{serverStatus: "status checks", serverCPU: "CPU", serverFreeStorage: "free storage", serverNoData: "metrics"}[metric]
	subj := Subject{Key: ServerAlertKey(rd.c.Key, r.ID, metric), Monitor: "server", Client: rd.c.Key, ClientName: rd.c.Name,
		Name: resourceLabel(r) + " " + what, Site: r.ID, URL: consoleURL(r), Channel: rd.c.Channel, PagerRef: rd.c.PagerRef,
		Severity:   cmp.Or(rd.c.Severity, integrations.SeverityError),
		Thresholds: store.Thresholds{FailAfter: max(rd.eff.Periods, 1), RecoverAfter: max(rd.eff.Periods, 1)}}
	if metric == serverNoData {
		// Its own state, neither in breach nor healthy: a warning, judged once a round.
		subj.Monitor, subj.Severity, subj.Thresholds = "nodata", integrations.SeverityWarning, store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	}
	if metric == serverStatus {
		// EC2 already waits minutes before calling a check impaired: an
		// outage pages at once, and one passing round resolves it.
		subj.Severity, subj.Thresholds = integrations.SeverityCritical, store.Thresholds{FailAfter: 1, RecoverAfter: 1}
		subj.Gathers = true // the client's sites on it fail with it
	}
	return subj
}

// resourceLabel is "web-1 (i-0abc)" or "i-0abc".
func resourceLabel(r store.ServerResource) string {
	if r.Name != "" && r.Name != r.ID {
		return r.Name + " (" + r.ID + ")"
	}
	return r.ID
}

// consoleURL links the resource in the AWS console.
func consoleURL(r store.ServerResource) string {
	if r.Region == "" {
		return ""
	}
	region := url.QueryEscape(r.Region)
	if r.Kind == store.ResourceDatabase {
		return "https://" + region + ".console.aws.amazon.com/rds/home?region=" + region + "#database:id=" + url.QueryEscape(r.ID)
	}
	return "https://" + region + ".console.aws.amazon.com/ec2/home?region=" + region + "#InstanceDetails:instanceId=" + url.QueryEscape(r.ID)
}

// num renders a measurement with at most one decimal: "97.3", "5".
func num(f float64) string { return strconv.FormatFloat(float64(int64(f*10+0.5))/10, 'f', -1, 64) }
