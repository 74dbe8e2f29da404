package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/bucketguard/bucketguard/remediations/config"
	sh "github.com/bucketguard/bucketguard/remediations/securityhub"
)

// hubCalls counts the Security Hub imports the CLI makes, by region.
type hubCalls struct {
	mu      sync.Mutex
	ids     map[string][]string // region → finding Ids imported
	calls   int
	updates int
}

type regionHub struct {
	h      *hubCalls
	region string
}

func (r regionHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.calls++
	for _, f := range in.Findings {
		r.h.ids[r.region] = append(r.h.ids[r.region], aws.ToString(f.Id))
	}
	return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(int32(len(in.Findings)))}, nil
}

func (r regionHub) BatchUpdateFindings(context.Context, *securityhub.BatchUpdateFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.updates++
	return &securityhub.BatchUpdateFindingsOutput{}, nil
}

// With BUCKETGUARD_SECURITY_HUB on, the CLI keeps the findings as the
// functions do when it acts (scan --fix, remediate), batched and imported
// before it exits, each to its bucket's region; a report-only scan, a dry
// run and check import nothing.
func TestCLIKeepsSecurityHubFindingsWhenItActs(t *testing.T) {
	cfg := config.Default()
	cfg.SecurityHub = true
	run := func(args ...string) (*hubCalls, runResult) {
		f := scanAccount()
		h := &hubCalls{ids: map[string][]string{}}
		build := runCLIDeps(t, f, cfg)
		c := &cli{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}, aws: func(ctx context.Context) (*deps, error) {
			d, err := build(ctx)
			if d != nil {
				d.FindingsFor = func(region string) sh.Client { return regionHub{h, region} }
			}
			return d, err
		}}
		code := runWith(context.Background(), args, c)
		return h, runResult{code: code, stdout: c.stdout.(*strings.Builder).String(), stderr: c.stderr.(*strings.Builder).String()}
	}
	h, r := run("scan", "--fix")
	if r.code != exitOK {
		t.Fatalf("scan --fix: exit %d\n%s", r.code, r.stderr)
	}
	// 9 buckets (8 in eu-west-1, 1 in us-east-1), two kinds each, in
	// batches: one call a region.
	if len(h.ids["eu-west-1"]) != 2*8 || len(h.ids["us-east-1"]) != 2 || h.calls != 2 {
		t.Errorf("imported %d in eu-west-1, %d in us-east-1, in %d calls", len(h.ids["eu-west-1"]), len(h.ids["us-east-1"]), h.calls)
	}
	if !strings.HasPrefix(h.ids["us-east-1"][0], "bucketguard/111122223333/us-east-1/acme-us/") {
		t.Errorf("us-east-1 Id %s", h.ids["us-east-1"][0])
	}
	for _, args := range [][]string{{"scan"}, {"remediate", "--dry-run", "acme-00"}, {"check", "acme-00"}} {
		if h, _ := run(args...); h.calls != 0 {
			t.Errorf("%v imported %d findings", args, len(h.ids["eu-west-1"]))
		}
	}
	if h, r := run("remediate", "acme-00"); h.calls != 1 || len(h.ids["eu-west-1"]) != 2 {
		t.Errorf("remediate: %d calls, %v (exit %d)", h.calls, h.ids, r.code)
	}
}
