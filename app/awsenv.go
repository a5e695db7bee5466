package app

import (
	"cmp"
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// awsConfig is the AWS SDK's default configuration (credentials from the
// usual chain: environment, shared files, IAM role; resolved lazily, so a
// machine without AWS credentials fails at the first AWS call with a
// message naming the cause, not at start-up), with the standard AWS_*
// settings taken from Run's getenv first. The SDK reads the process
// environment itself; reading getenv too keeps Run's contract that it sees
// only the environment it is handed (in production getenv is os.Getenv, so
// both agree), which lets several programs run in one test process.
func awsConfig(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
	}
	if region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	if f := getenv("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, awsconfig.WithSharedConfigFiles([]string{f}))
	}
	if f := getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, awsconfig.WithSharedCredentialsFiles([]string{f}))
	}
	if strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}
