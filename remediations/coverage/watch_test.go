package coverage_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/coverage"
	"github.com/bucketguard/bucketguard/remediations/fake"
)

// threeAccounts: the management account (no stack: StackSets never reach
// it), a covered member, and a member whose instance is outdated.
type threeAccounts struct{}

func (threeAccounts) DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{MasterAccountId: aws.String("111100000000")}}, nil
}

func (threeAccounts) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	out := &organizations.ListAccountsOutput{}
	for _, id := range []string{"111100000000", "111100000001", "111100000002"} {
		out.Accounts = append(out.Accounts, orgtypes.Account{Id: aws.String(id), Status: orgtypes.AccountStatusActive})
	}
	return out, nil
}

func (threeAccounts) ListStackInstances(_ context.Context, in *cloudformation.ListStackInstancesInput, _ ...func(*cloudformation.Options)) (*cloudformation.ListStackInstancesOutput, error) {
	status := map[string]cftypes.StackInstanceStatus{"111100000001": cftypes.StackInstanceStatusCurrent, "111100000002": cftypes.StackInstanceStatusOutdated}[aws.ToString(in.StackInstanceAccount)]
	out := &cloudformation.ListStackInstancesOutput{}
	if status != "" {
		out.Summaries = []cftypes.StackInstanceSummary{{Account: in.StackInstanceAccount, Region: aws.String("eu-west-1"), Status: status,
			StatusReason: aws.String("the stack failed to update")}}
	}
	return out, nil
}

// The scheduled check tells the operations topic once, naming each
// account-region not covered, and logs the count the stack's Uncovered
// metric takes.
func TestWatchTellsWhatIsNotCovered(t *testing.T) {
	f := fake.New()
	var logs bytes.Buffer
	w := &coverage.Watch{
		Sources: coverage.Sources{Organization: threeAccounts{}, Instances: threeAccounts{}},
		Config:  coverage.WatchConfig{StackSet: "BucketGuard", Regions: []string{"eu-west-1"}, CallAs: cftypes.CallAsDelegatedAdmin, OpsTopicARN: "arn:aws:sns:eu-west-1:111100000009:ops"},
		Alerts:  &alert.Sender{SNS: f.SNS(), TopicARN: "arn:aws:sns:eu-west-1:111100000009:ops"},
		Log:     slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:     func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) },
	}
	if err := w.Handle(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	pub := f.Published()
	if len(pub) != 1 || !strings.Contains(pub[0].Message, "111100000002 eu-west-1") || !strings.Contains(pub[0].Message, "111100000000 eu-west-1") ||
		strings.Contains(pub[0].Message, "111100000001 eu-west-1:") {
		t.Fatalf("published %+v", pub)
	}
	if !strings.Contains(logs.String(), `"msg":"coverage","uncovered":2`) {
		t.Errorf("log %s", logs.String())
	}
}

func TestWatchConfigNamesEveryBadSetting(t *testing.T) {
	_, err := coverage.WatchConfigFromEnv(config.Lookup(map[string]string{coverage.EnvRegions: "mars-1", coverage.EnvCallAs: "ROOT"}))
	for _, env := range []string{coverage.EnvStackSet, coverage.EnvRegions, coverage.EnvCallAs, coverage.EnvOpsTopicARN} {
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("error %v does not name %s", err, env)
		}
	}
}
