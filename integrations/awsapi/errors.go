// Error classification shared by every AWS integration.
package awsapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/383project/opsbot/integrations"
)

// Error codes AWS services use for throttling; the SDK already retried
// them RetryMaxAttempts times before Classify sees them.
// https://docs.aws.amazon.com/Route53/latest/APIReference/CommonErrors.html
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "PriorRequestNotComplete": true,
	"RequestLimitExceeded": true, "TooManyRequestsException": true, "RequestThrottled": true,
	"LimitExceededException": true, "RequestThrottledException": true, "SlowDown": true,
}

// Codes that mean the credentials themselves were rejected or lack a permission.
var authCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "InvalidClientTokenId": true,
	"SignatureDoesNotMatch": true, "ExpiredToken": true, "UnrecognizedClientException": true,
	"MissingAuthenticationToken": true, "IncompleteSignature": true,
	"UnauthorizedOperation": true, // EC2's access denied
}

// Classify turns an SDK error into opsbot's: throttling, 5xx and network
// failures become *integrations.RetryableError; access denied names the IAM
// action (and wraps integrations.ErrUnauthorized); everything else (e.g.
// NoSuchHostedZone, InvalidChangeBatch, InvalidInput) is final and carries
// AWS's code and message. The SDK error stays in the chain for errors.As.
func Classify(op, action string, err error) error {
	return ClassifyWith(op, action, err, nil)
}

// ClassifyWith is Classify with a service's own way to word an API error
// (e.g. Route 53 joins the messages of InvalidChangeBatch); message may be
// nil, and an empty result falls back to AWS's message.
func ClassifyWith(op, action string, err error, message func(smithy.APIError) string) error {
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
		msg := ""
		if message != nil {
			msg = message(ae)
		}
		if msg == "" {
			msg = ae.ErrorMessage()
		}
		if msg == "" {
			msg = "(no message)"
		}
		e := &awsError{code: ae.ErrorCode(), msg: msg, err: err}
		var rid interface{ ServiceRequestID() string }
		if errors.As(err, &rid) {
			e.requestID = rid.ServiceRequestID()
		}
		switch {
		case throttleCodes[e.code] || status >= 500:
			return &integrations.RetryableError{Op: op, StatusCode: status, Err: e}
		case authCodes[e.code]:
			return &integrations.PermissionError{Action: action,
				Err: fmt.Errorf("%s: missing IAM permission %s (or invalid credentials): %w: %w", op, action, e, integrations.ErrUnauthorized)}
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
		return &integrations.PermissionError{Action: action,
			Err: fmt.Errorf("%s: HTTP %d, IAM permission %q needed: %w: %w", op, status, action, integrations.ErrUnauthorized, err)}
	}
	return fmt.Errorf("%s: %w", op, err)
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
