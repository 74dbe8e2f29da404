package main

import (
	"bytes"
	"context"
	"testing"
)

// The demo creates buckets: it must never run against anything but an
// emulator on loopback.
func TestRefusesNonLoopbackEndpoints(t *testing.T) {
	for _, ep := range []string{"", "https://s3.eu-west-1.amazonaws.com", "http://10.0.0.8:5000", "not a url"} {
		t.Setenv("AWS_ENDPOINT_URL", ep)
		var out, errb bytes.Buffer
		if code := run(context.Background(), &out, &errb); code != 2 || out.Len() != 0 {
			t.Errorf("AWS_ENDPOINT_URL=%q: exit %d, stdout %q", ep, code, out.String())
		}
	}
}
