// Package emulator is the integration-test rig around moto server (the
// Makefile starts it on loopback and sets AWS_ENDPOINT_URL): reset it, put a
// fault-injecting proxy in front of it, set up the alert path's resources and
// read what reached them, and build incident scenes. The demo uses it too, so
// it links no testing package.
package emulator

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/bucketguard/bucketguard/remediations/clients"
)

// TB is the part of TB the rig uses. It is spelled out here so
// that the demo, which builds its world with the same rig, links no testing
// package.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Emulator is the moto server the Makefile started (AWS_ENDPOINT_URL), reset
// for one test, with a fault proxy in front of it.
type Emulator struct {
	// Endpoint is moto's own address.
	Endpoint string
	Proxy    *Proxy
	// Clients go through the proxy: give them to the code under test.
	Clients clients.Set
	// Direct goes straight to moto: set up and check state with it.
	Direct clients.Set
	Region string
}

// NewEmulator connects to the emulator. A missing or non-loopback
// AWS_ENDPOINT_URL fails the test: integration tests never skip, and never
// reach real AWS.
func NewEmulator(t TB) *Emulator {
	t.Helper()
	ep := ResetEmulator(t)
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "eu-west-1"
	}
	p, err := NewProxy(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &Emulator{Endpoint: ep, Proxy: p, Region: region,
		Clients: clients.New(EmulatorConfig(p.URL, region)), Direct: clients.New(EmulatorConfig(ep, region))}
}

// ResetEmulator empties the emulator the Makefile started and returns its
// endpoint, for tests that reach it through the standard SDK configuration.
// A missing or non-loopback AWS_ENDPOINT_URL fails the test.
func ResetEmulator(t TB) string {
	t.Helper()
	ep := os.Getenv("AWS_ENDPOINT_URL")
	u, err := url.Parse(ep)
	if ep == "" || err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		t.Fatalf("AWS_ENDPOINT_URL=%q: integration tests run against the emulator on loopback; use make integration", ep)
	}
	resp, err := http.Post(ep+"/moto-api/reset", "", nil)
	if err != nil {
		t.Fatalf("reset the emulator: %v", err)
	}
	resp.Body.Close()
	return ep
}

// EmulatorConfig is the SDK configuration for a loopback endpoint: dummy
// credentials, and the standard retryer with short back-offs so that tests
// that inject throttling stay quick.
func EmulatorConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 50 * time.Millisecond
			})
		},
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	}
}

// Ctx is a context for a test's setup calls.
func Ctx(t TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
