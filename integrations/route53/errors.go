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
