package awsapi

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ServiceEndpoint is the base URL a service client of cfg talks to when
// opsbot does not override it, resolved as the SDK's generated clients do:
// cfg.BaseEndpoint (AWS_ENDPOINT_URL), replaced by the service's own entry
// (AWS_ENDPOINT_URL_<SERVICE>, the shared config file's services section)
// unless AWS_ENDPOINT_URL is set and the service variable is not, and none
// of the configured ones when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (the
// config sources say so). sdkID is the SDK's service ID, e.g. "EC2". It is
// "" when nothing is configured: the caller then uses AWS's own endpoint.
// It is here for the hand-written clients that replace a generated one.
func ServiceEndpoint(cfg aws.Config, sdkID string) string {
	base := aws.ToString(cfg.BaseEndpoint)
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, own := os.LookupEnv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	if global && !own {
		return base
	}
	ctx := context.Background()
	for _, src := range cfg.ConfigSources {
		p, ok := src.(interface {
			GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
		})
		if !ok {
			continue
		}
		if ignore, found, err := p.GetIgnoreConfiguredEndpoints(ctx); err != nil || found {
			if ignore {
				return base
			}
			break
		}
	}
	for _, src := range cfg.ConfigSources {
		p, ok := src.(interface {
			GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
		})
		if !ok {
			continue
		}
		if url, found, err := p.GetServiceBaseEndpoint(ctx, sdkID); err != nil || found {
			if found && err == nil {
				return url
			}
			break
		}
	}
	return base
}
