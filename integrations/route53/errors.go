package route53

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/383project/opsbot/integrations"
)

// Error codes Route 53 (and the AWS front door) use for throttling; the SDK
// already retried them RetryMaxAttempts times before classify sees them.
// https://docs.aws.amazon.com/Route53/latest/APIReference/CommonErrors.html
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "PriorRequestNotComplete": true,
	"RequestLimitExceeded": true, "TooManyRequestsException": true, "RequestThrottled": true,
}

// Codes that mean the credentials themselves were rejected or lack a permission.
var authCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "InvalidClientTokenId": true,
	"SignatureDoesNotMatch": true, "ExpiredToken": true, "UnrecognizedClientException": true,
	"MissingAuthenticationToken": true, "IncompleteSignature": true,
}

// classify turns an SDK error into opsbot's: throttling, 5xx and network
// failures become *integrations.RetryableError; access denied names the IAM
// action (and wraps integrations.ErrUnauthorized); everything else (e.g.
// NoSuchHostedZone, InvalidChangeBatch, InvalidInput) is final and carries
// AWS's code and message. The SDK error stays in the chain for errors.As.
func classify(op, action string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := &awsError{code: ae.ErrorCode(), msg: apiMessage(ae), err: err}
		var rid interface{ ServiceRequestID() string }
		if errors.As(err, &rid) {
			e.requestID = rid.ServiceRequestID()
		}
		switch {
		case throttleCodes[e.code] || status >= 500:
			return &integrations.RetryableError{Op: op, StatusCode: status, Err: e}
		case authCodes[e.code]:
			return fmt.Errorf("%s: missing IAM permission %s (or invalid credentials): %w: %w", op, action, e, integrations.ErrUnauthorized)
		default:
			return fmt.Errorf("%s: %w", op, e)
		}
	}
	if status >= 500 {
		return &integrations.RetryableError{Op: op, StatusCode: status, Err: err}
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return &integrations.RetryableError{Op: op, Err: err}
	}
	if status == 401 || status == 403 {
		return fmt.Errorf("%s: HTTP %d, IAM permission %q needed: %w: %w", op, status, action, integrations.ErrUnauthorized, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// apiMessage is AWS's message; for InvalidChangeBatch it joins the
// per-change messages of the <InvalidChangeBatch><Messages> form too.
func apiMessage(ae smithy.APIError) string {
	msg := ae.ErrorMessage()
	var icb *types.InvalidChangeBatch
	if errors.As(ae, &icb) && len(icb.Messages) > 0 {
		parts := icb.Messages
		if msg != "" && msg != "ChangeBatch errors occurred" {
			parts = append([]string{msg}, parts...)
		}
		msg = strings.Join(parts, "; ")
	}
	if msg == "" {
		msg = "(no message)"
	}
	return msg
}

// awsError is AWS's error code and message, short, with the SDK error
// (typed, e.g. *types.NoSuchHostedZone) kept in the chain for errors.As.
type awsError struct {
	code, msg, requestID string
	err                  error
}

func (e *awsError) Error() string {
	s := e.code + ": " + e.msg
	if e.requestID != "" {
		s += " (request " + e.requestID + ")"
	}
	return s
}

func (e *awsError) Unwrap() error { return e.err }
