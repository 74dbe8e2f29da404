package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/bucketguard/bucketguard/remediations/coverage"
)

// fakeOrg is an organization of n accounts, 111100000000 + i, the first
// the management account; it keeps the instances and the heartbeats.
type fakeOrg struct {
	n         int
	suspended map[int]bool
	// instance says the instance of account i in a region: "" for none.
	instance func(i int, region string) (status cftypes.StackInstanceStatus, reason string)
	// beat says the heartbeat of account i in a region, zero for none.
	beat func(i int, region string) time.Time
	// emitted counts the rows printed so far; maxPending is the most rows
	// listed but not yet printed when a page was asked for.
	emitted    *atomic.Int64
	mu         sync.Mutex
	calls      map[string]int
	maxPending int
}

func account(i int) string { return fmt.Sprintf("%012d", 111100000000+i) }

func (f *fakeOrg) count(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[call]++
}

func (f *fakeOrg) DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	f.count("DescribeOrganization")
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{MasterAccountId: aws.String(account(0))}}, nil
}

func (f *fakeOrg) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f.count("ListAccounts")
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	if f.emitted != nil {
		// The rows of the pages before this one are out already.
		f.mu.Lock()
		if pending := int(int64(start)*17 - f.emitted.Load()); pending > f.maxPending {
			f.maxPending = pending
		}
		f.mu.Unlock()
	}
	out := &organizations.ListAccountsOutput{}
	for i := start; i < min(start+int(aws.ToInt32(in.MaxResults)), f.n); i++ {
		a := orgtypes.Account{Id: aws.String(account(i)), Name: aws.String(fmt.Sprintf("acct-%d", i)), Status: orgtypes.AccountStatusActive}
		if f.suspended[i] {
			a.Status = orgtypes.AccountStatusSuspended
		}
		out.Accounts = append(out.Accounts, a)
	}
	if next := start + len(out.Accounts); next < f.n {
		out.NextToken = aws.String(fmt.Sprint(next))
	}
	return out, nil
}

func (f *fakeOrg) ListStackInstances(_ context.Context, in *cloudformation.ListStackInstancesInput, _ ...func(*cloudformation.Options)) (*cloudformation.ListStackInstancesOutput, error) {
	f.count("ListStackInstances")
	if in.CallAs != cftypes.CallAsDelegatedAdmin || aws.ToString(in.StackSetName) != "BucketGuard" {
		return nil, fmt.Errorf("call as %q, stack set %q", in.CallAs, aws.ToString(in.StackSetName))
	}
	var i int
	fmt.Sscan(strings.TrimPrefix(aws.ToString(in.StackInstanceAccount), "1111"), &i)
	out := &cloudformation.ListStackInstancesOutput{}
	for _, r := range allRegions {
		if st, reason := f.instance(i, r); st != "" {
			out.Summaries = append(out.Summaries, cftypes.StackInstanceSummary{Account: in.StackInstanceAccount, Region: aws.String(r), Status: st,
				StatusReason: aws.String(reason), StackInstanceStatus: &cftypes.StackInstanceComprehensiveStatus{DetailedStatus: cftypes.StackInstanceDetailedStatusSucceeded}})
		}
	}
	return out, nil
}

func (f *fakeOrg) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.count("BatchGetItem")
	keys := in.RequestItems["Heartbeats"].Keys
	if len(keys) > 100 {
		return nil, fmt.Errorf("%d keys", len(keys))
	}
	var items []map[string]ddbtypes.AttributeValue
	for _, k := range keys {
		pk := k["pk"].(*ddbtypes.AttributeValueMemberS).Value
		acct, region, _ := strings.Cut(pk, "/")
		var i int
		fmt.Sscan(strings.TrimPrefix(acct, "1111"), &i)
		if t := f.beat(i, region); !t.IsZero() {
			items = append(items, map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
				"at": &ddbtypes.AttributeValueMemberS{Value: t.Format(time.RFC3339)}})
		}
	}
	return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]ddbtypes.AttributeValue{"Heartbeats": items}}, nil
}

var allRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1"}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func runCoverage(t *testing.T, f *fakeOrg, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, aws: func(context.Context) (*deps, error) {
		return &deps{Now: func() time.Time { return now }, Coverage: coverage.Sources{Organization: f, Instances: f, Heartbeats: f}}, nil
	}}
	code := runWith(context.Background(), append([]string{"coverage"}, args...), c)
	return runResult{code, out.String(), errb.String()}
}

// Each way an account and region can be uncovered, and how it reads.
func TestCoverageVerdicts(t *testing.T) {
	f := &fakeOrg{n: 6, suspended: map[int]bool{5: true},
		instance: func(i int, r string) (cftypes.StackInstanceStatus, string) {
			switch {
			case i == 0: // the management account: never a StackSet target
				return "", ""
			case i == 2 && r == "us-east-1":
				return cftypes.StackInstanceStatusOutdated, "ResourceLogicalId:RemediateFunction, ResourceStatusReason:Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: AccessDenied\""
			case i == 3 && r == "eu-west-1":
				return "", ""
			}
			return cftypes.StackInstanceStatusCurrent, ""
		},
		beat: func(i int, r string) time.Time {
			switch i {
			case 3:
				return time.Time{}
			case 4:
				return now.Add(-49 * time.Hour)
			}
			return now.Add(-3 * time.Hour)
		},
	}
	r := runCoverage(t, f, "--region", "eu-west-1,us-east-1", "--heartbeats", "Heartbeats", "--json")
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 3: %s", r.code, r.stderr)
	}
	want := map[string]string{
		account(0) + "/eu-west-1": "covered",      // the per-account deploy's heartbeat
		account(1) + "/eu-west-1": "covered",      //
		account(2) + "/us-east-1": "not-current",  // the stack is OUTDATED, its reason said
		account(3) + "/eu-west-1": "no-stack",     // no instance in this region
		account(4) + "/eu-west-1": "no-heartbeat", // 49 hours since the last
		account(5) + "/eu-west-1": "suspended",
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d lines, want 6 accounts × 2 regions:\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		for _, k := range []string{"account", "region", "covered", "reason"} {
			if _, ok := row[k]; !ok {
				t.Errorf("no %s in %s", k, l)
			}
		}
		if w, ok := want[row["account"].(string)+"/"+row["region"].(string)]; ok && row["state"] != w {
			t.Errorf("%s: state %v, want %s", l, row["state"], w)
		}
		if row["account"] == account(2) && row["region"] == "us-east-1" && !strings.Contains(row["reason"].(string), "AccessDenied") {
			t.Errorf("the status reason is not said: %s", l)
		}
	}
	// Without heartbeats the management account is named for what it is.
	f.beat = func(int, string) time.Time { return time.Time{} }
	r = runCoverage(t, f, "--region", "eu-west-1")
	if r.code != exitFindings || !strings.Contains(r.stdout, account(0)+"  eu-west-1       no       management account: StackSets never deploy to it") {
		t.Errorf("exit %d\n%s", r.code, r.stdout)
	}
	goldenOut(t, "coverage.txt", r.stdout)
}

func TestCoverageAllCoveredExits0(t *testing.T) {
	f := &fakeOrg{n: 3, instance: func(int, string) (cftypes.StackInstanceStatus, string) { return cftypes.StackInstanceStatusCurrent, "" },
		beat: func(int, string) time.Time { return now.Add(-time.Hour) }}
	f.instance = func(i int, r string) (cftypes.StackInstanceStatus, string) {
		if i == 0 {
			return "", "" // covered by its own heartbeat
		}
		return cftypes.StackInstanceStatusCurrent, ""
	}
	if r := runCoverage(t, f, "--region", "eu-west-1", "--heartbeats", "Heartbeats"); r.code != exitOK {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestCoverageUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--region", "nowhere"}, {"--region", "eu-west-1", "--call-as", "ADMIN"}, {"--region", "eu-west-1", "extra"}} {
		if r := runCoverage(t, &fakeOrg{}, args...); r.code != exitInvalid {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}

// 1,000 accounts × 17 regions in one run, within seconds, the rows of each
// page of accounts printed before the next page is read, with the calls
// one would count on AWS: one instance listing per account, one heartbeat
// read per 100 keys.
func TestCoverageAtScale(t *testing.T) {
	f := &fakeOrg{n: 1000, emitted: &atomic.Int64{},
		instance: func(int, string) (cftypes.StackInstanceStatus, string) { return cftypes.StackInstanceStatusCurrent, "" },
		beat:     func(int, string) time.Time { return now.Add(-time.Hour) }}
	var out countingWriter
	out.n = f.emitted
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &bytes.Buffer{}, aws: func(context.Context) (*deps, error) {
		return &deps{Now: func() time.Time { return now }, Coverage: coverage.Sources{Organization: f, Instances: f, Heartbeats: f}}, nil
	}}
	start := time.Now()
	code := runWith(context.Background(), []string{"coverage", "--json", "--heartbeats", "Heartbeats", "--region", strings.Join(allRegions, ",")}, c)
	took := time.Since(start)
	if code != exitFindings && code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if got := f.emitted.Load(); got != 17000 {
		t.Errorf("%d rows, want 17,000", got)
	}
	if took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if f.calls["ListStackInstances"] != 1000 || f.calls["ListAccounts"] != 50 || f.calls["BatchGetItem"] != 50*4 {
		t.Errorf("calls %v", f.calls)
	}
	// The output is buffered (4 KiB): at most a page and a buffer behind.
	if f.maxPending > 20*17+4096/100 {
		t.Errorf("up to %d rows held back while listing: the join does not stream", f.maxPending)
	}
	t.Logf("17,000 rows in %s; %v", took, f.calls)
}

// countingWriter counts the JSON lines written through it.
type countingWriter struct{ n *atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(bytes.Count(p, []byte("\n"))))
	return len(p), nil
}
