package route53test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// Record is one resource record set as the fake stores it. An alias has
// Alias set and no TTL or Values.
type Record struct {
	Name   string
	Type   string
	TTL    int64
	Values []string
	Alias  *Alias
}

// wireSet is a <ResourceRecordSet> on the wire.
type wireSet struct {
	XMLName xml.Name `xml:"ResourceRecordSet"`
	Name    string   `xml:"Name"`
	Type    string   `xml:"Type"`
	TTL     *int64   `xml:"TTL"`
	Records *rrList  `xml:"ResourceRecords"`
	Alias   *Alias   `xml:"AliasTarget"`
}

type rrList struct {
	RR []rr `xml:"ResourceRecord"`
}

type rr struct {
	Value string `xml:"Value"`
}

// MarshalXML writes r as Route 53 does: TTL and ResourceRecords only for
// plain sets, AliasTarget only for aliases.
func (r Record) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Name = xml.Name{Local: "ResourceRecordSet"}
	w := wireSet{XMLName: start.Name, Name: r.Name, Type: r.Type, Alias: r.Alias}
	if r.Alias == nil {
		w.TTL = &r.TTL
		w.Records = &rrList{}
		for _, v := range r.Values {
			w.Records.RR = append(w.Records.RR, rr{v})
		}
	}
	return e.EncodeElement(w, start)
}

// UnmarshalXML reads a <ResourceRecordSet>.
func (r *Record) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var w wireSet
	if err := d.DecodeElement(&w, &start); err != nil {
		return err
	}
	*r = Record{Name: w.Name, Type: w.Type, Alias: w.Alias}
	if w.TTL != nil {
		r.TTL = *w.TTL
	}
	if w.Records != nil {
		for _, rr := range w.Records.RR {
			r.Values = append(r.Values, rr.Value)
		}
	}
	return nil
}

// Alias is an alias target.
type Alias struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

func (r Record) clone() Record {
	r.Values = append([]string(nil), r.Values...)
	if r.Alias != nil {
		a := *r.Alias
		r.Alias = &a
	}
	return r
}

func (r Record) equal(o Record) bool {
	if normName(r.Name) != normName(o.Name) || !strings.EqualFold(r.Type, o.Type) || r.TTL != o.TTL ||
		strings.Join(r.Values, "\n") != strings.Join(o.Values, "\n") || (r.Alias == nil) != (o.Alias == nil) {
		return false
	}
	return r.Alias == nil || *r.Alias == *o.Alias
}

// XML is the record as it appears inside <ResourceRecordSets>: two records
// are byte-for-byte the same set when their XML is equal.
func (r Record) XML() string {
	b, err := xml.Marshal(r)
	if err != nil {
		return "<!-- " + err.Error() + " -->"
	}
	return string(b)
}

type change struct {
	Action string `xml:"Action"`
	Set    Record `xml:"ResourceRecordSet"`
}

type changeRequest struct {
	XMLName xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	Comment string   `xml:"ChangeBatch>Comment"`
	Changes []change `xml:"ChangeBatch>Changes>Change"`
}

type listResponse struct {
	XMLName        xml.Name `xml:"ListResourceRecordSetsResponse"`
	Xmlns          string   `xml:"xmlns,attr"`
	Sets           []Record `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated    bool     `xml:"IsTruncated"`
	NextRecordName string   `xml:"NextRecordName,omitempty"`
	NextRecordType string   `xml:"NextRecordType,omitempty"`
	MaxItems       int      `xml:"MaxItems"`
}

type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type changeResponse struct {
	XMLName xml.Name
	Xmlns   string     `xml:"xmlns,attr"`
	Info    changeInfo `xml:"ChangeInfo"`
}

// writeXML sends v with Route 53's content type and a request ID.
func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = 500, []byte(err.Error())
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", "route53test-request")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// writeError sends AWS's REST-XML error body; InvalidChangeBatch has its
// own root with one <Message> per refused change, as Route 53 sends it.
func writeError(w http.ResponseWriter, status int, code, message string) {
	if code == "InvalidChangeBatch" {
		writeXML(w, status, struct {
			XMLName   xml.Name `xml:"InvalidChangeBatch"`
			Xmlns     string   `xml:"xmlns,attr"`
			Messages  []string `xml:"Messages>Message"`
			RequestID string   `xml:"RequestId"`
		}{Xmlns: xmlns, Messages: []string{message}, RequestID: "route53test-request"})
		return
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, status, struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: xmlns, Type: typ, Code: code, Message: message, RequestID: "route53test-request"})
}

func invalidBatch(format string, args ...any) error {
	return &apiErr{400, "InvalidChangeBatch", fmt.Sprintf(format, args...)}
}

type apiErr struct {
	status        int
	code, message string
}

func (e *apiErr) Error() string { return e.code + ": " + e.message }
