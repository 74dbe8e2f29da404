//go:build integration

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
)

// The CLI's scan on the emulator, with its real AWS wiring (the standard
// SDK configuration the Makefile exports).
func TestScanOnTheEmulator(t *testing.T) {
	emulator.ResetEmulator(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	set, err := clients.Load(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (emulator.Scene{S3: set.S3, Control: set.Control, Region: "eu-west-1", Account: fake.Account}).Mixed(ctx, 20); err != nil {
		t.Fatal(err)
	}
	scanOnce := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"scan", "--format", "table"}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := scanOnce()
	t.Logf("bucketguard scan:\n%s%s", out, errs)
	if code != exitFindings || strings.Count(out, " notified ") != 5 || !strings.Contains(out, "20 buckets") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = scanOnce("--fix")
	t.Logf("bucketguard scan --fix:\n%s", out)
	if code != exitOK || !strings.Contains(out, "5 remediated") {
		t.Fatalf("--fix: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ = scanOnce(); code != exitOK || !strings.Contains(out, "20 clean") {
		t.Errorf("after --fix: exit %d\n%s", code, out)
	}
}
