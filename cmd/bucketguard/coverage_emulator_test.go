//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
)

// bucketguard coverage end to end on moto, which implements AWS
// Organizations (the organization, OUs, accounts, closing one) and
// service-managed StackSets with OU targets: a ring's OU gets stacks in
// two regions, an account outside it gets none, the management account
// none (StackSets never reach it), a closed account is suspended; the
// heartbeats are in the table as the admin stack's state machine writes
// them. moto lists every instance whatever the account asked for, and
// makes each CURRENT: the stack status paths are the unit tests'.
func TestCoverageOnTheEmulator(t *testing.T) {
	emulator.ResetEmulator(t)
	ctx := emulator.Ctx(t)
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(cfg)
	cfn := cloudformation.NewFromConfig(cfg)
	db := dynamodb.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("Production")})
	if err != nil {
		t.Fatal(err)
	}
	newAccount := func(name string) string {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.CreateAccountStatus.AccountId)
	}
	swept, silent, outside, closed := newAccount("swept"), newAccount("silent"), newAccount("outside"), newAccount("closed")
	for _, a := range []string{swept, silent} {
		if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(root),
			DestinationParentId: ou.OrganizationalUnit.Id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(closed)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{StackSetName: aws.String("BucketGuard"),
		PermissionModel: cftypes.PermissionModelsServiceManaged, AutoDeployment: &cftypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)},
		TemplateBody: aws.String(`{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("BucketGuard"),
		DeploymentTargets: &cftypes.DeploymentTargets{OrganizationalUnitIds: []string{aws.ToString(ou.OrganizationalUnit.Id)}},
		Regions:           []string{"eu-west-1", "us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Heartbeats"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(contract.HeartbeatKey), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(contract.HeartbeatKey), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	beat := func(account, region string, at time.Time) {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Heartbeats"), Item: map[string]ddbtypes.AttributeValue{
			contract.HeartbeatKey: &ddbtypes.AttributeValueMemberS{Value: account + "/" + region},
			contract.HeartbeatAt:  &ddbtypes.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	beat(swept, "eu-west-1", time.Now().Add(-2*time.Hour))
	beat(swept, "us-east-1", time.Now().Add(-2*time.Hour))
	beat(silent, "eu-west-1", time.Now().Add(-50*time.Hour))

	var out, errb bytes.Buffer
	code := run(ctx, []string{"coverage", "--region", "eu-west-1,us-east-1", "--heartbeats", "Heartbeats", "--json"}, strings.NewReader(""), &out, &errb)
	t.Logf("bucketguard coverage --json:\n%s%s", out.String(), errb.String())
	if code != exitFindings {
		t.Fatalf("exit %d, want 3", code)
	}
	want := map[string]string{
		swept + "/eu-west-1": "covered", swept + "/us-east-1": "covered",
		silent + "/eu-west-1": "no-heartbeat", silent + "/us-east-1": "no-heartbeat",
		outside + "/eu-west-1": "no-stack", closed + "/eu-west-1": "suspended",
		fake.Account + "/eu-west-1": "management",
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct {
			Account, Region, State, Reason string
			Covered                        bool
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got[r.Account+"/"+r.Region] = r.State
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != 5*2 {
		t.Errorf("%d rows, want 5 accounts × 2 regions", len(got))
	}
}
