//go:build integration

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// The real Lambda door. The remediate bootstrap, built for this
// machine, runs under the AWS Lambda Runtime Interface Emulator with exactly
// the environment the synthesized template gives the function (make synth:
// cdk.out), its resources standing for the emulator's; a CloudTrail sample
// goes in through the runtime API, and the bucket is remediated and the
// owner alerted. This is what shows that the stack's configuration starts
// the function.
func TestRemediateUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	e := emulator.NewEmulator(t)
	ctx := emulator.Ctx(t)
	alerting, err := emulator.NewAlerting(ctx, e.Direct)
	must(t, err)

	template := filepath.Join("..", "..", "cdk.out", "BucketGuard-"+e.Region+".template.json")
	env, err := emulator.FunctionEnv(template, "RemediateFunction", alerting.Resolve)
	if err != nil {
		t.Fatalf("%v (make synth writes cdk.out)", err)
	}
	// What Lambda sets and the template does not: the region, credentials,
	// and here the emulator's endpoint.
	env["AWS_REGION"], env["AWS_ENDPOINT_URL"] = e.Region, e.Endpoint
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "testing", "testing"

	dir := t.TempDir()
	build := func(out, pkg string) {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	build(filepath.Join(dir, "bootstrap"), ".")
	build(filepath.Join(dir, "aws-lambda-rie"), "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")

	b := "acme-invoices-prod"
	s := emulator.Scene{S3: e.Direct.S3, Control: e.Direct.Control, Region: e.Region, Account: "111122223333"}
	must(t, s.CreateBucket(ctx, b))
	must(t, s.Tags(ctx, b, map[string]string{"owner": "finance"}))
	must(t, s.Policy(ctx, b, emulator.PolicyDoc(emulator.PartnerStatement(b), emulator.PublicReadStatement(b))))

	rie, err := emulator.StartRIE(ctx, filepath.Join(dir, "aws-lambda-rie"), filepath.Join(dir, "bootstrap"), env)
	must(t, err)
	defer rie.Stop()
	init, _ := rie.InitDuration()

	event, err := os.ReadFile(filepath.Join("..", "..", "events", "testdata", "cloudtrail", "PutBucketPolicy.json"))
	must(t, err)
	if _, took, err := rie.Invoke(ctx, event); err != nil {
		t.Fatalf("invoke: %v\n%s", err, rie.Output())
	} else {
		rss, _ := rie.PeakRSS()
		t.Logf("INIT REPORT init %v; first event %v; peak RSS %.1f MiB", init, took, rss)
	}

	p, err := s.Posture(ctx, b)
	must(t, err)
	if p.BucketBPA.State != posture.Set || p.BucketBPA.Value != posture.AllOn || strings.Contains(p.Policy.Value, "PublicRead") || !strings.Contains(p.Policy.Value, "Partner") {
		t.Errorf("bucket not remediated: BPA %+v policy %s\n%s", p.BucketBPA, p.Policy.Value, rie.Output())
	}
	ns, err := emulator.Drain(ctx, e.Direct, alerting.Inbox)
	must(t, err)
	if len(ns) != 1 || ns[0].Attribute("bucket") != b || ns[0].Attribute("owner") != "finance" {
		t.Fatalf("alerts %+v\n%s", ns, rie.Output())
	}
	var doc map[string]any
	must(t, json.Unmarshal([]byte(ns[0].Message), &doc))
	if doc["status"] != "remediated" {
		t.Errorf("alert status %v", doc["status"])
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
