package awsmontest

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

const rdsXmlns = "http://rds.amazonaws.com/doc/2014-10-31/"

type xmlRDSTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlDBInstance struct {
	ID               string      `xml:"DBInstanceIdentifier"`
	Class            string      `xml:"DBInstanceClass"`
	Engine           string      `xml:"Engine"`
	Status           string      `xml:"DBInstanceStatus"`
	AllocatedStorage int32       `xml:"AllocatedStorage"`
	BackupRetention  int32       `xml:"BackupRetentionPeriod"`
	ARN              string      `xml:"DBInstanceArn"`
	Tags             []xmlRDSTag `xml:"TagList>Tag"`
}

type describeDBInstancesResponse struct {
	XMLName   xml.Name        `xml:"DescribeDBInstancesResponse"`
	Xmlns     string          `xml:"xmlns,attr"`
	DBs       []xmlDBInstance `xml:"DescribeDBInstancesResult>DBInstances>DBInstance"`
	Marker    string          `xml:"DescribeDBInstancesResult>Marker,omitempty"`
	RequestID string          `xml:"ResponseMetadata>RequestId"`
}

// describeDBInstances honours DBInstanceIdentifier (unknown → 404
// DBInstanceNotFound, as in AWS), the db-instance-id and engine filters,
// MaxRecords and Marker.
func (s *Server) describeDBInstances(w http.ResponseWriter, region string, form url.Values) {
	id := form.Get("DBInstanceIdentifier")
	filters := parseFilters(form, "Filters.Filter.", "Values.Value.")
	s.mu.Lock()
	var found []DBInstance
	var bad string
	for _, d := range s.dbs {
		if d.Region != region || id != "" && d.ID != id {
			continue
		}
		ok := true
		for name, values := range filters {
			switch name {
			case "db-instance-id":
				ok = ok && (slices.Contains(values, d.ID) || slices.Contains(values, dbARN(d)))
			case "engine":
				ok = ok && slices.Contains(values, d.Engine)
			default:
				bad = name
			}
		}
		if ok {
			found = append(found, d)
		}
	}
	s.mu.Unlock()
	switch {
	case bad != "":
		writeRDSError(w, 400, "InvalidParameterValue", "Unrecognized filter name: "+bad)
		return
	case id != "" && len(found) == 0:
		writeRDSError(w, 404, "DBInstanceNotFound", "DBInstance "+id+" not found.")
		return
	}
	max, _ := strconv.Atoi(form.Get("MaxRecords"))
	from, to, next, err := s.page(OpDescribeDBInstances, len(found), max, form.Get("Marker"))
	if err != nil {
		writeRDSError(w, 400, "InvalidParameterValue", err.Error())
		return
	}
	resp := describeDBInstancesResponse{Xmlns: rdsXmlns, Marker: next, RequestID: "fake-request"}
	for _, d := range found[from:to] {
		x := xmlDBInstance{ID: d.ID, Class: d.Class, Engine: d.Engine, Status: d.Status, AllocatedStorage: d.StorageGiB, ARN: dbARN(d), BackupRetention: d.BackupRetention}
		for _, k := range slices.Sorted(maps.Keys(d.Tags)) {
			x.Tags = append(x.Tags, xmlRDSTag{k, d.Tags[k]})
		}
		resp.DBs = append(resp.DBs, x)
	}
	writeXML(w, resp)
}

func dbARN(d DBInstance) string {
	return fmt.Sprintf("arn:aws:rds:%s:123456789012:db:%s", d.Region, d.ID)
}

// writeRDSError answers in the AWS Query error shape:
// <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
func writeRDSError(w http.ResponseWriter, status int, code, message string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	b, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: rdsXmlns, Type: typ, Code: code, Message: message, RequestID: fmt.Sprintf("fake-%d", time.Now().UnixNano())})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
