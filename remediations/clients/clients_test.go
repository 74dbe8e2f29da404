package clients

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

func TestLoopback(t *testing.T) {
	for ep, want := range map[string]bool{
		"http://127.0.0.1:5000": true, "http://localhost:4566": true, "http://[::1]:5000": true,
		"https://s3-control.eu-west-1.amazonaws.com": false, "https://vpce-1.s3-control.eu-west-1.vpce.amazonaws.com": false,
		"::not a url": false,
	} {
		if got := loopback(ep); got != want {
			t.Errorf("loopback(%q) = %v, want %v", ep, got, want)
		}
	}
}

// On a loopback endpoint S3 Control calls go to the endpoint as configured,
// without the account-id host prefix; elsewhere the SDK's rules apply.
func TestControlEndpoint(t *testing.T) {
	local := New(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:5000")})
	if _, ok := local.Control.Options().EndpointResolverV2.(fixedEndpoint); !ok {
		t.Fatal("loopback endpoint: S3 Control does not use the fixed resolver")
	}
	ep, err := fixedEndpoint{}.ResolveEndpoint(context.Background(), s3control.EndpointParameters{
		Endpoint: aws.String("http://127.0.0.1:5000"), AccountId: aws.String("111122223333"), RequiresAccountId: aws.Bool(true)})
	if err != nil || ep.URI.Host != "127.0.0.1:5000" {
		t.Errorf("resolved %v, %v", ep.URI.Host, err)
	}
	if !local.S3.Options().UsePathStyle {
		t.Error("S3 on a custom endpoint must use path-style addressing")
	}
	real := New(aws.Config{Region: "eu-west-1"})
	if _, ok := real.Control.Options().EndpointResolverV2.(fixedEndpoint); ok || real.S3.Options().UsePathStyle {
		t.Error("AWS endpoints changed")
	}
}
