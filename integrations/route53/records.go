package route53

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// Record is one resource record set: either a plain set (TTL and Values) or
// an alias (AliasTarget; TTL and Values empty). Names are FQDNs as Route 53
// returns them (trailing dot; a leading "*" comes back as `\052`).
// Sets with a routing policy (SetIdentifier: weighted, latency, failover,
// geolocation, multivalue) are not supported and make Records fail.
type Record struct {
	Name        string
	Type        string // A, AAAA, CNAME, TXT, ...
	TTL         int64
	Values      []string
	AliasTarget *Alias
}

// Alias is the target of an alias record.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
type Alias struct {
	HostedZoneID         string // the target's hosted zone (e.g. the ELB's), not the record's
	DNSName              string
	EvaluateTargetHealth bool
}

// Key is the record's identity within a zone: normalised name and type.
func (r Record) Key() string { return NormalizeName(r.Name) + " " + strings.ToUpper(r.Type) }

// NormalizeName lower-cases name, decodes Route 53's `\ooo` octal escapes
// and adds the trailing dot, so "WWW.Example.com" and "www.example.com."
// (and `\052.example.com.` and "*.example.com") compare equal.
func NormalizeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) {
			if n, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	s := strings.ToLower(b.String())
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func fromSDK(s types.ResourceRecordSet) (Record, error) {
	r := Record{Name: aws.ToString(s.Name), Type: string(s.Type), TTL: aws.ToInt64(s.TTL)}
	if s.SetIdentifier != nil {
		return Record{}, fmt.Errorf("record set %s %s has routing policy set %q: not supported", r.Name, r.Type, *s.SetIdentifier)
	}
	for _, v := range s.ResourceRecords {
		r.Values = append(r.Values, aws.ToString(v.Value))
	}
	if a := s.AliasTarget; a != nil {
		r.AliasTarget = &Alias{HostedZoneID: aws.ToString(a.HostedZoneId), DNSName: aws.ToString(a.DNSName), EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return r, nil
}

func toSDK(r Record) (*types.ResourceRecordSet, error) {
	if r.Name == "" || r.Type == "" {
		return nil, fmt.Errorf("record %q %q: name and type are required", r.Name, r.Type)
	}
	s := &types.ResourceRecordSet{Name: aws.String(r.Name), Type: types.RRType(strings.ToUpper(r.Type))}
	if a := r.AliasTarget; a != nil {
		if len(r.Values) > 0 {
			return nil, fmt.Errorf("record %s: an alias has no values", r.Key())
		}
		s.AliasTarget = &types.AliasTarget{HostedZoneId: aws.String(a.HostedZoneID), DNSName: aws.String(a.DNSName), EvaluateTargetHealth: a.EvaluateTargetHealth}
		return s, nil
	}
	if len(r.Values) == 0 {
		return nil, fmt.Errorf("record %s: no values", r.Key())
	}
	s.TTL = aws.Int64(r.TTL)
	for _, v := range r.Values {
		s.ResourceRecords = append(s.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return s, nil
}

// restoreChanges is the single batch that turns current into kept: DELETE
// first (a CNAME cannot coexist with other types at its name), then UPSERT.
func restoreChanges(kept, current []Record) ([]types.Change, error) {
	keep := map[string]bool{}
	for _, r := range kept {
		keep[r.Key()] = true
	}
	var changes []types.Change
	for _, r := range current {
		if keep[r.Key()] {
			continue
		}
		s, err := toSDK(r)
		if err != nil {
			return nil, err
		}
		changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: s})
	}
	for _, r := range kept {
		s, err := toSDK(r)
		if err != nil {
			return nil, err
		}
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: s})
	}
	return changes, nil
}

// names lists the distinct record keys of recs for logs.
func names(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Key())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
