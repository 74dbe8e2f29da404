// Package clients builds the AWS SDK clients once, from the SDK's standard
// configuration (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS,
// ...), for the Lambda functions and the CLI alike. Set holds what the
// engine and the alert path call; a program builds any other client it
// needs itself, so that nothing links a client it never calls.
package clients

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// Set is the clients of the engine (S3, S3 Control) and of the alert path
// (SNS, the SQS fallback, the DynamoDB ledger).
type Set struct {
	Config   aws.Config
	S3       *s3.Client
	Control  *s3control.Client
	SNS      *sns.Client
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	// Analyzer is IAM Access Analyzer, AWS's second opinion on a policy.
	Analyzer *accessanalyzer.Client
}

// HTTPClient is the SDK's HTTP client with each attempt of a call bounded
// by timeout (a hung connection fails the attempt, which the SDK retries)
// and a connection pool that keeps conns idle connections per host, so that
// the work in flight reuses connections instead of opening new ones (a TLS
// handshake each on AWS).
func HTTPClient(timeout time.Duration, conns int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTimeout(timeout).WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = conns
		t.MaxIdleConns = 4 * conns // S3's regional host, S3 Control's, and the alert path's
	})
}

// Load reads the standard configuration and builds the clients.
func Load(ctx context.Context, opts ...func(*awsconfig.LoadOptions) error) (Set, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Set{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return New(cfg), nil
}

// New builds the clients from a loaded configuration. When an endpoint is
// configured (AWS_ENDPOINT_URL, an emulator), S3 uses path-style addressing,
// and S3 Control on a loopback endpoint does not prefix the account id to the
// host name (111122223333.127.0.0.1 resolves nowhere).
func New(cfg aws.Config) Set {
	return Set{
		Config: cfg,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if o.BaseEndpoint != nil {
				o.UsePathStyle = true
			}
		}),
		Control: s3control.NewFromConfig(cfg, func(o *s3control.Options) {
			if o.BaseEndpoint != nil && loopback(*o.BaseEndpoint) {
				o.EndpointResolverV2 = fixedEndpoint{}
			}
		}),
		SNS:      sns.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Analyzer: accessanalyzer.NewFromConfig(cfg),
	}
}

func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fixedEndpoint sends every S3 Control call to the configured endpoint as is.
type fixedEndpoint struct{}

func (fixedEndpoint) ResolveEndpoint(_ context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	if p.Endpoint == nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("s3control: no endpoint configured")
	}
	u, err := url.Parse(*p.Endpoint)
	if err != nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("s3control endpoint %q: %w", *p.Endpoint, err)
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}

// BucketRegion returns the region a bucket lives in (GetBucketLocation).
func (s Set) BucketRegion(ctx context.Context, bucket string) (string, error) {
	out, err := s.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", fmt.Errorf("get bucket location %s: %w", bucket, err)
	}
	switch loc := string(out.LocationConstraint); loc {
	case "":
		return "us-east-1", nil // buckets made without a constraint live there
	case "EU":
		return "eu-west-1", nil // the legacy name
	default:
		return loc, nil
	}
}
