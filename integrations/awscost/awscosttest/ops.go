package awscosttest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const dateLayout = "2006-01-02"

type groupDefinition struct{ Type, Key string }

type costAndUsageInput struct {
	TimePeriod    *DateInterval
	Granularity   string
	Metrics       []string
	GroupBy       []groupDefinition
	Filter        *Expression
	NextPageToken string `json:",omitempty"`
}

type metricValue struct{ Amount, Unit string }

type group struct {
	Keys    []string
	Metrics map[string]metricValue
}

type resultByTime struct {
	TimePeriod DateInterval
	Total      map[string]metricValue
	Groups     []group
	Estimated  bool
}

// entry is one page slot: one group of one day, or a day without groups.
type entry struct {
	day   time.Time
	group *group
}

// costAndUsage answers GetCostAndUsage for DAILY UnblendedCost, grouped by
// SERVICE or not. Every day of the period is listed, empty ones too.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
func (s *Server) costAndUsage(w http.ResponseWriter, body []byte) {
	var in costAndUsageInput
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, 400, "SerializationException", err.Error())
		return
	}
	from, to, err := period(in.TimePeriod)
	if err == nil {
		err = validateCostAndUsage(in)
	}
	if err != nil {
		writeError(w, 400, "ValidationException", err.Error())
		return
	}
	token := in.NextPageToken
	in.NextPageToken = ""
	canonical, _ := json.Marshal(in)
	reqHash := fmt.Sprintf("%x", sha256.Sum256(canonical))[:16]
	offset := 0
	if token != "" {
		h, n, ok := strings.Cut(token, ".")
		offset, err = strconv.Atoi(n)
		if !ok || err != nil || offset <= 0 {
			writeError(w, 400, "InvalidNextTokenException", "The NextPageToken is invalid")
			return
		}
		if h != reqHash {
			writeError(w, 400, "RequestChangedException", "The request changed between pages")
			return
		}
	}

	s.mu.Lock()
	entries := s.entries(in, from, to)
	pageSize := s.pageSize
	s.mu.Unlock()
	if offset > len(entries) {
		writeError(w, 400, "InvalidNextTokenException", "The NextPageToken is invalid")
		return
	}
	page := entries[offset:]
	next := ""
	if pageSize > 0 && len(page) > pageSize {
		page = page[:pageSize]
		next = fmt.Sprintf("%s.%d", reqHash, offset+pageSize)
	}
	var results []resultByTime
	for _, e := range page {
		if n := len(results); n == 0 || results[n-1].TimePeriod.Start != e.day.Format(dateLayout) {
			results = append(results, resultByTime{TimePeriod: DateInterval{e.day.Format(dateLayout), e.day.AddDate(0, 0, 1).Format(dateLayout)},
				Total: map[string]metricValue{}, Groups: []group{}})
		}
		r := &results[len(results)-1]
		switch {
		case e.group == nil:
		case len(in.GroupBy) == 0:
			r.Total = e.group.Metrics
		default:
			r.Groups = append(r.Groups, *e.group)
		}
	}
	out := map[string]any{"ResultsByTime": results, "DimensionValueAttributes": []any{}}
	if len(in.GroupBy) > 0 {
		out["GroupDefinitions"] = in.GroupBy
	}
	if next != "" {
		out["NextPageToken"] = next
	}
	writeJSON(w, 200, out)
}

func validateCostAndUsage(in costAndUsageInput) error {
	switch {
	case in.Granularity != "DAILY":
		return fmt.Errorf("the fake models only Granularity DAILY, not %q", in.Granularity)
	case !slices.Equal(in.Metrics, []string{"UnblendedCost"}):
		return fmt.Errorf("the fake models only Metrics [UnblendedCost], not %q", in.Metrics)
	case len(in.GroupBy) > 0 && !slices.Equal(in.GroupBy, []groupDefinition{{"DIMENSION", "SERVICE"}}):
		return fmt.Errorf("the fake models only GroupBy DIMENSION SERVICE, not %v", in.GroupBy)
	case in.Filter != nil:
		return in.Filter.validate()
	}
	return nil
}

// entries lists the page slots of [from, to): per day, the matching items
// summed per service (services in name order), or one empty slot; s.mu is held.
func (s *Server) entries(in costAndUsageInput, from, to time.Time) []entry {
	type sum struct {
		amount float64
		raw    string
	}
	byDay := map[time.Time]map[string]*sum{}
	for k, it := range s.items {
		if k.day.Before(from) || !k.day.Before(to) || !in.Filter.matches(k.scope, k.service) {
			continue
		}
		service := k.service
		if len(in.GroupBy) == 0 {
			service = "" // one Total per day
		}
		if byDay[k.day] == nil {
			byDay[k.day] = map[string]*sum{}
		}
		if byDay[k.day][service] == nil {
			byDay[k.day][service] = &sum{}
		}
		sm := byDay[k.day][service]
		sm.amount += it.amount
		if it.raw != "" {
			sm.raw = it.raw
		}
	}
	var out []entry
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		services := byDay[d]
		if len(services) == 0 {
			out = append(out, entry{day: d})
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(services)) {
			amount := services[name].raw
			if amount == "" {
				amount = strconv.FormatFloat(services[name].amount, 'f', -1, 64)
			}
			out = append(out, entry{day: d, group: &group{Keys: []string{name},
				Metrics: map[string]metricValue{"UnblendedCost": {Amount: amount, Unit: s.unit}}}})
		}
	}
	return out
}

// costForecast answers GetCostForecast with the forecasts of the scopes the
// Filter matches, or DataUnavailableException when it matches none.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html
func (s *Server) costForecast(w http.ResponseWriter, body []byte) {
	var in struct {
		TimePeriod  *DateInterval
		Metric      string
		Granularity string
		Filter      *Expression
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, 400, "SerializationException", err.Error())
		return
	}
	_, _, err := period(in.TimePeriod)
	switch {
	case err != nil:
	case in.Metric != "UNBLENDED_COST":
		err = fmt.Errorf("the fake models only Metric UNBLENDED_COST, not %q", in.Metric)
	case in.Granularity != "DAILY" && in.Granularity != "MONTHLY":
		err = fmt.Errorf("granularity must be DAILY or MONTHLY, not %q", in.Granularity)
	case in.Filter != nil:
		err = in.Filter.validate()
	}
	if err != nil {
		writeError(w, 400, "ValidationException", err.Error())
		return
	}
	s.mu.Lock()
	total, found, unit := 0.0, false, s.unit
	for scope, amount := range s.forecasts {
		if in.Filter.matches(scope, "") {
			total, found = total+amount, true
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, 400, "DataUnavailableException", message("DataUnavailableException", OpGetCostForecast))
		return
	}
	amount := strconv.FormatFloat(total, 'f', -1, 64)
	writeJSON(w, 200, map[string]any{
		"Total": metricValue{Amount: amount, Unit: unit},
		"ForecastResultsByTime": []map[string]any{{"TimePeriod": in.TimePeriod, "MeanValue": amount,
			"PredictionIntervalLowerBound": amount, "PredictionIntervalUpperBound": amount}},
	})
}

// period parses a TimePeriod; Start must be before End.
func period(p *DateInterval) (from, to time.Time, err error) {
	if p == nil {
		return from, to, fmt.Errorf("TimePeriod is required")
	}
	from, err1 := time.Parse(dateLayout, p.Start)
	to, err2 := time.Parse(dateLayout, p.End)
	switch {
	case err1 != nil || err2 != nil:
		return from, to, fmt.Errorf("TimePeriod dates must be YYYY-MM-DD: %q..%q", p.Start, p.End)
	case !from.Before(to):
		return from, to, fmt.Errorf("start date (and hour) should be before end date (and hour)")
	}
	return from, to, nil
}
