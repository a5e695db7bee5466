// Package ec2query is a small client of the EC2 Query API for the three
// read calls opsbot makes (DescribeInstances, DescribeInstanceStatus,
// DescribeAddresses). It replaces aws-sdk-go-v2/service/ec2, which alone
// took a quarter of a cold build's compile CPU (~100 s of ~400 s) and set
// its memory peak (3.2 GB in one compiler process) for these three calls. It is built on the SDK's core pieces, which the
// other AWS clients compile anyway: the aws.Config (region, credentials,
// HTTP client, retry settings), the SigV4 signer and the standard retryer.
// Its errors have the shape of the generated clients' (smithy.OperationError
// around an awshttp.ResponseError around a smithy.APIError), so
// awsapi.Classify and the retryer treat them the same.
//
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-requests.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
package ec2query

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/383project/opsbot/integrations/awsapi"
)

// apiVersion is the EC2 API version every request names.
const apiVersion = "2016-11-15"

// maxBody bounds a response read into memory (a DescribeInstances page of
// 1,000 instances is a few MB).
const maxBody = 64 << 20

// Client calls EC2 in one account and region. It is safe for concurrent use.
type Client struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider // nil: requests go unsigned (only a fake accepts them)
	hc       aws.HTTPClient
	retryer  aws.Retryer
	signer   *v4.Signer
}

// New returns a client for cfg's region, credentials, HTTP client and retry
// settings (cfg.Retryer, cfg.RetryMode, cfg.RetryMaxAttempts, as the SDK's
// clients read them). endpointURL, when set, wins over every other endpoint
// setting (awsapi.Config.EndpointURL); otherwise AWS_ENDPOINT_URL_EC2 and
// the like apply (awsapi.ServiceEndpoint), then EC2's regional endpoint.
func New(cfg aws.Config, endpointURL string) *Client {
	c := &Client{endpoint: endpointURL, region: cfg.Region, hc: cfg.HTTPClient, signer: v4.NewSigner()}
	if c.region == "" {
		c.region = awsapi.DefaultRegion
	}
	if c.endpoint == "" {
		c.endpoint = awsapi.ServiceEndpoint(cfg, "EC2")
	}
	if c.endpoint == "" {
		c.endpoint = regionalEndpoint(c.region)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	switch p := cfg.Credentials.(type) {
	case nil, aws.AnonymousCredentials:
	case *aws.CredentialsCache:
		c.creds = p
	default:
		c.creds = aws.NewCredentialsCache(p)
	}
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		c.retryer = retry.NewAdaptiveMode()
	default:
		c.retryer = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts != 0 {
		c.retryer = retry.AddWithMaxAttempts(c.retryer, cfg.RetryMaxAttempts)
	}
	return c
}

// regionalEndpoint is EC2's endpoint in region (the China regions are in
// their own partition). FIPS and dual-stack endpoints are not chosen
// automatically; set one with AWS_ENDPOINT_URL_EC2 if needed.
func regionalEndpoint(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "https://ec2." + region + ".amazonaws.com.cn"
	}
	return "https://ec2." + region + ".amazonaws.com"
}

// call sends action with params, retrying as the retryer says, and decodes
// the XML answer into out.
func (c *Client) call(ctx context.Context, action string, params url.Values, out any) error {
	params.Set("Action", action)
	params.Set("Version", apiVersion)
	body := []byte(params.Encode())
	err := c.withRetries(ctx, func() error {
		data, err := c.send(ctx, body)
		if err != nil {
			return err
		}
		if err := xml.Unmarshal(data, out); err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("decode %s response: %w", action, err)}
		}
		return nil
	})
	if err != nil {
		return &smithy.OperationError{ServiceID: "EC2", OperationName: action, Err: err}
	}
	return nil
}

// withRetries runs attempt until it succeeds, fails for good, or the
// retryer's attempts or retry quota are used up, as the SDK's retry
// middleware does (without its clock-skew correction).
func (c *Client) withRetries(ctx context.Context, attempt func() error) error {
	releaseRetry := func(error) error { return nil }
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		releaseAttempt, err := c.attemptToken(ctx)
		if err != nil {
			return fmt.Errorf("failed to get retry Send token, %w", err)
		}
		err = attempt()
		_ = releaseRetry(err)
		_ = releaseAttempt(err)
		if err == nil || !c.retryer.IsErrorRetryable(err) {
			return err
		}
		if max := c.retryer.MaxAttempts(); max > 0 && n >= max {
			return &retry.MaxAttemptsError{Attempt: n, Err: err}
		}
		release, quotaErr := c.retryer.GetRetryToken(ctx, err)
		if quotaErr != nil {
			return errors.Join(err, quotaErr)
		}
		releaseRetry = release
		delay, err := c.retryer.RetryDelay(n, err)
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (c *Client) attemptToken(ctx context.Context) (func(error) error, error) {
	if r, ok := c.retryer.(aws.RetryerV2); ok {
		return r.GetAttemptToken(ctx)
	}
	return c.retryer.GetInitialToken(), nil
}

// send makes one signed POST and returns the body of a 2xx answer; any
// other answer is an error carrying its status, EC2's code and message and
// the request ID.
func (c *Client) send(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ec2query: endpoint %q: %w", c.endpoint, err)
	}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("failed to retrieve credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", c.region, time.Now().UTC()); err != nil {
			return nil, fmt.Errorf("failed to sign request: %w", err)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	apiErr, requestID := decodeError(data)
	if apiErr == nil {
		return nil, &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp},
			Err: fmt.Errorf("HTTP %d without an EC2 error: %.200q", resp.StatusCode, data)}
	}
	return nil, &awshttp.ResponseError{RequestID: requestID,
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: apiErr}}
}

// decodeError reads EC2's error document,
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>,
// and returns its first error (nil when data is not one).
func decodeError(data []byte) (*smithy.GenericAPIError, string) {
	var doc struct {
		XMLName xml.Name `xml:"Response"`
		Errors  []struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Errors>Error"`
		RequestID string `xml:"RequestID"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Errors) == 0 || doc.Errors[0].Code == "" {
		return nil, ""
	}
	e := doc.Errors[0]
	return &smithy.GenericAPIError{Code: e.Code, Message: e.Message}, doc.RequestID
}

// errRepeatedToken stops a paginated call whose NextToken does not move on.
var errRepeatedToken = errors.New("ec2query: EC2 returned the same NextToken again")
