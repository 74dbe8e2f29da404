package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// scanAccount: eight buckets in eu-west-1, every third with a public policy,
// and one public bucket in us-east-1.
func scanAccount() *fake.Fake {
	f := fake.New()
	on := posture.AllOn
	for i := range 8 {
		name := fmt.Sprintf("acme-%02d", i)
		b := fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"}, Policy: emulator.PolicyDoc(emulator.TLSStatement(name))}
		if i%3 == 0 {
			b.Policy = emulator.PolicyDoc(emulator.PublicReadStatement(name), emulator.TLSStatement(name))
		}
		f.Put(name, b)
	}
	f.Put("acme-us", fake.Bucket{Region: "us-east-1", Policy: emulator.PolicyDoc(emulator.PublicWriteStatement("acme-us"))})
	return f
}

func TestScanReportsAndWritesNothing(t *testing.T) {
	f := scanAccount()
	r := runCLI(t, f, config.Default(), "", "scan", "--format", "table")
	if r.code != exitFindings || f.Writes() != 0 {
		t.Fatalf("exit %d, writes %d\n%s%s", r.code, f.Writes(), r.stdout, r.stderr)
	}
	goldenOut(t, "scan.txt", r.stdout)
	if !strings.Contains(r.stderr, "scan: 9/9 buckets") {
		t.Errorf("no progress line on a non-terminal:\n%s", r.stderr)
	}
	// The buckets are listed once, as they are evaluated; the
	// progress learns the total from the pages, not from a second listing.
	if n := f.Count(op.ListBuckets); n != 1 {
		t.Errorf("ListBuckets called %d times for one page of buckets", n)
	}
}

// JSON is the default format; --format json and --json print the same
// document.
func TestScanPrintsJSONByDefault(t *testing.T) {
	for _, args := range [][]string{nil, {"--format", "json"}, {"--json"}} {
		t.Run(strings.Join(append([]string{"scan"}, args...), " "), func(t *testing.T) {
			f := scanAccount()
			r := runCLI(t, f, config.Default(), "", append([]string{"scan", "--region", "us-east-1"}, args...)...)
			var out scanJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
			}
			if r.code != exitFindings || out.Total != 1 || out.Tally.Seen != 1 || len(out.Buckets) != 1 || out.Buckets[0].Bucket != "acme-us" || out.Buckets[0].Severity != "critical" {
				t.Errorf("exit %d: %+v", r.code, out)
			}
		})
	}
	for _, args := range [][]string{{"--json", "--format", "table"}, {"--json", "--format", "ocsf"}, {"--format", "text"}} {
		if r := runCLI(t, scanAccount(), config.Default(), "", append([]string{"scan"}, args...)...); r.code != exitInvalid {
			t.Errorf("scan %v: exit %d", args, r.code)
		}
	}
}

func TestScanFix(t *testing.T) {
	f := scanAccount()
	r := runCLI(t, f, config.Default(), "", "scan", "--fix", "--concurrency", "2", "--format", "table")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "9 buckets") || !strings.Contains(r.stdout, "4 remediated") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	again := runCLI(t, f, config.Default(), "", "scan", "--format", "table")
	if again.code != exitOK || !strings.Contains(again.stdout, "9 clean") {
		t.Errorf("after --fix: exit %d\n%s", again.code, again.stdout)
	}
}

// Ctrl-C (the context canceled) stops starting buckets; those in flight
// finish and the partial result is printed.
func TestScanInterrupted(t *testing.T) {
	f := scanAccount()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Fault = func(op op.Operation, b string, _ int) error {
		if b == "acme-02" && op == "s3:GetBucketPolicy" {
			cancel()
		}
		return nil
	}
	var out, errb strings.Builder
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, aws: runCLIDeps(t, f, config.Default())}
	code := runWith(ctx, []string{"scan", "--concurrency", "1", "--format", "table"}, c)
	if code != exitFailure || !strings.Contains(out.String(), "stopped: stopped by the operator after 3 of 9 buckets") {
		t.Errorf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}

func TestScanFlags(t *testing.T) {
	for _, args := range [][]string{{"scan", "extra"}, {"scan", "--region", "mars"}, {"scan", "--concurrency", "99"}, {"scan", "--nope"}} {
		if r := runCLI(t, nil, config.Default(), "", args...); r.code != exitInvalid {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}
