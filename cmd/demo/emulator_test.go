//go:build integration

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/emulator"
)

// The demo itself, on the emulator: every bucket ends in the right state.
func TestDemoOnTheEmulator(t *testing.T) {
	emulator.ResetEmulator(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"summary: 6 buckets, 5 remediated, 0 reported, 1 clean; 0 in the wrong end state",
		"acme-website", "public write", "EXEMPTION", "alert                none (nothing to fix)", "end state            right (handled in "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// The demo in us-east-1, the region most shells default to: S3 refuses a
// locationConstraint there, so buckets are made without one.
func TestDemoInUSEast1OnTheEmulator(t *testing.T) {
	emulator.ResetEmulator(t)
	t.Setenv("AWS_REGION", "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if want := "summary: 6 buckets, 5 remediated, 0 reported, 1 clean; 0 in the wrong end state"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q\n%s", want, out.String())
	}
}
