package route53

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/383project/opsbot/integrations/awsapi"
)

// classify is awsapi.ClassifyWith with Route 53's wording of errors.
func classify(op, action string, err error) error {
	return awsapi.ClassifyWith(op, action, err, apiMessage)
}

// apiMessage joins the per-change messages of the <InvalidChangeBatch>
// <Messages> form to AWS's message; "" for other errors.
func apiMessage(ae smithy.APIError) string {
	var icb *types.InvalidChangeBatch
	if !errors.As(ae, &icb) || len(icb.Messages) == 0 {
		return ""
	}
	parts := icb.Messages
	if msg := ae.ErrorMessage(); msg != "" && msg != "ChangeBatch errors occurred" {
		parts = append([]string{msg}, parts...)
	}
	return strings.Join(parts, "; ")
}

// Plain words a final Route 53 refusal for people, without the SDK's
// operation, endpoint or request ID: "Route 53 has no hosted zone Z…",
// "Route 53 refused the change: <its reason>". ok is false for other
// errors (throttling, network, permissions), which callers word by kind.
func Plain(err error) (msg string, ok bool) {
	var nsz *types.NoSuchHostedZone
	var icb *types.InvalidChangeBatch
	var ii *types.InvalidInput
	var ae smithy.APIError
	switch {
	case errors.As(err, &nsz):
		return "Route 53 has no such hosted zone (or opsbot's account cannot see it)", true
	case errors.As(err, &icb):
		why := strings.Join(icb.Messages, "; ")
		if why == "" && errors.As(err, &ae) {
			why = ae.ErrorMessage()
		}
		return "Route 53 refused the change: " + truncate(why, 300), true
	case errors.As(err, &ii) && errors.As(err, &ae):
		return "Route 53 refused the request: " + truncate(ae.ErrorMessage(), 300), true
	}
	return "", false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
