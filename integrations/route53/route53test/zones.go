package route53test

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// getZone serves GetHostedZone: the zone's ID, name and record count, or
// NoSuchHostedZone (404).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
func (s *Server) getZone(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	z := s.zones[id]
	var name string
	var count int
	if z != nil {
		name, count = z.name, len(z.sets)
	}
	s.mu.Unlock()
	if z == nil {
		writeError(w, 404, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
		return
	}
	writeXML(w, 200, getZoneResponse{Xmlns: xmlns, ID: "/hostedzone/" + id, Name: name, CallerReference: "route53test-" + id,
		Count: count, NameServers: []string{"ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"}})
}

type getZoneResponse struct {
	XMLName         xml.Name `xml:"GetHostedZoneResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	ID              string   `xml:"HostedZone>Id"`
	Name            string   `xml:"HostedZone>Name"`
	CallerReference string   `xml:"HostedZone>CallerReference"`
	Private         bool     `xml:"HostedZone>Config>PrivateZone"`
	Count           int      `xml:"HostedZone>ResourceRecordSetCount"`
	NameServers     []string `xml:"DelegationSet>NameServers>NameServer"`
}

// normName lower-cases, decodes `\ooo` escapes and adds the trailing dot.
func normName(name string) string {
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

// storedName is how Route 53 returns a name: normalised, "*" as `\052`.
func storedName(name string) string { return strings.ReplaceAll(normName(name), "*", `\052`) }

// compare orders sets as Route 53 lists them: by name with the labels
// reversed (example.com. before a.example.com.), then by type.
func compare(a, b Record) int {
	la, lb := strings.Split(strings.TrimSuffix(normName(a.Name), "."), "."), strings.Split(strings.TrimSuffix(normName(b.Name), "."), ".")
	slices.Reverse(la)
	slices.Reverse(lb)
	if c := slices.Compare(la, lb); c != 0 {
		return c
	}
	return strings.Compare(strings.ToUpper(a.Type), strings.ToUpper(b.Type))
}

func find(sets []Record, r Record) int {
	return slices.IndexFunc(sets, func(x Record) bool { return compare(x, r) == 0 })
}

// upsert inserts or replaces r (by name and type), keeping sets sorted.
func upsert(sets []Record, r Record) []Record {
	r = r.clone()
	r.Name, r.Type = storedName(r.Name), strings.ToUpper(r.Type)
	if i := find(sets, r); i >= 0 {
		sets[i] = r
		return sets
	}
	i, _ := slices.BinarySearchFunc(sets, r, compare)
	return slices.Insert(sets, i, r)
}

// apply runs a change batch on a copy of the zone's sets: all or nothing.
func apply(z *zone, changes []change) ([]Record, error) {
	sets := make([]Record, 0, len(z.sets)+len(changes))
	for _, r := range z.sets {
		sets = append(sets, r.clone())
	}
	for _, c := range changes {
		r := c.Set
		desc := "[name='" + normName(r.Name) + "', type='" + strings.ToUpper(r.Type) + "']"
		if n := normName(r.Name); n != z.name && !strings.HasSuffix(n, "."+z.name) {
			return nil, invalidBatch("RRSet with DNS name %s is not permitted in zone %s", n, z.name)
		}
		if r.Type == "" || (r.Alias == nil) == (len(r.Values) == 0) || r.Alias != nil && r.TTL != 0 {
			return nil, invalidBatch("Invalid request: resource record set %s needs either values and a TTL or an alias target", desc)
		}
		i := find(sets, r)
		switch c.Action {
		case "CREATE":
			if i >= 0 {
				return nil, invalidBatch("Tried to create resource record set %s but it already exists", desc)
			}
			sets = upsert(sets, r)
		case "UPSERT":
			sets = upsert(sets, r)
		case "DELETE":
			if i < 0 {
				return nil, invalidBatch("Tried to delete resource record set %s but it was not found", desc)
			}
			if !sets[i].equal(r) {
				return nil, invalidBatch("Tried to delete resource record set %s but the values provided do not match the current values", desc)
			}
			sets = slices.Delete(sets, i, i+1)
		default:
			return nil, &apiErr{400, "InvalidInput", "Invalid action " + c.Action}
		}
	}
	return sets, nil
}
