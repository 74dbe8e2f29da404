package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/infra/cost"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

var (
	orgOnce    sync.Once
	orgFixture struct {
		org       *OrgStacks
		member    map[string]any
		admin     map[string]any
		assets    []map[string]any
		stacks    []awscdk.Stack
		orgConfig OrgSettings
		err       error
	}
)

// synthOrg builds the organization's stacks once (make synth-org with the
// repository's example context): the member template, two regions' asset
// buckets, the admin stack.
func synthOrg(t *testing.T) (*OrgStacks, map[string]any, map[string]any, []map[string]any) {
	t.Helper()
	orgOnce.Do(func() {
		s, err := ParseSettings(ctx(map[string]any{
			"regions": []any{"eu-west-1", "us-east-1"}, "account": "111122223333",
			"alertEmails": []any{"security@example.com"}, "opsEmails": []any{"ops@example.com"},
			"ownerRoutes": map[string]any{"web-team": "web@example.com"},
		}), noEnv)
		if err != nil {
			orgFixture.err = err
			return
		}
		o, err := ParseOrg(map[string]any{"rings": []any{
			map[string]any{"name": "Canary", "mode": "enforce", "regions": []any{"eu-west-1"}},
			map[string]any{"name": "Production"},
		}}, s.Regions)
		if err != nil {
			orgFixture.err = err
			return
		}
		dir, err := os.MkdirTemp("", "bucketguard-org")
		if err != nil {
			orgFixture.err = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dir, "cdk.out"))})
		orgFixture.orgConfig = o
		if err := os.MkdirAll(filepath.Join(dir, "coverage"), 0o755); err != nil {
			orgFixture.err = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "coverage", "bootstrap"), []byte("not a real binary"), 0o755); err != nil {
			orgFixture.err = err
			return
		}
		orgFixture.org = NewOrg(app, &OrgProps{Settings: s, Org: o, Dist: dir})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		tpl := func(st awscdk.Stack) map[string]any {
			orgFixture.stacks = append(orgFixture.stacks, st)
			return *assertions.Template_FromStack(st, nil).ToJSON()
		}
		orgFixture.member = tpl(orgFixture.org.Member.Stack.Stack)
		orgFixture.admin = tpl(orgFixture.org.Admin)
		for _, a := range orgFixture.org.Assets {
			orgFixture.assets = append(orgFixture.assets, tpl(a))
		}
	})
	if orgFixture.err != nil {
		t.Fatal(orgFixture.err)
	}
	return orgFixture.org, orgFixture.member, orgFixture.admin, orgFixture.assets
}

// The StackSet rules: what a service-managed StackSet deploys in any
// account and region, and what it cannot deploy at all.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs.html
func TestMemberTemplateIsStackSetReady(t *testing.T) {
	_, member, _, _ := synthOrg(t)
	b, _ := json.Marshal(member)
	body := string(b)
	// Environment-agnostic: no account id, no region name.
	if ids := regexp.MustCompile(`\b[0-9]{12}\b`).FindAllString(body, -1); len(ids) > 0 {
		t.Errorf("account ids in the member template: %v", ids)
	}
	if rs := regexp.MustCompile(`\b(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|southwest)-[0-9]\b`).FindAllString(body, -1); len(rs) > 0 {
		t.Errorf("region names in the member template: %v", rs)
	}
	if _, ok := member["Rules"]; ok {
		t.Errorf("a Rules section (the bootstrap version check): %s", jsonOf(member["Rules"]))
	}
	if tr, ok := member["Transform"]; ok {
		t.Errorf("a transform: %v", tr)
	}
	for id, r := range member["Resources"].(map[string]any) {
		res := r.(map[string]any)
		typ, _ := res["Type"].(string)
		props, _ := res["Properties"].(map[string]any)
		switch {
		case typ == "AWS::CDK::Metadata", typ == "AWS::CloudFormation::Stack", strings.HasPrefix(typ, "AWS::Serverless::"),
			strings.HasPrefix(typ, "Custom::"), typ == "AWS::CloudFormation::CustomResource", typ == "AWS::CloudFormation::Macro":
			t.Errorf("%s: %s cannot be in a member template", id, typ)
		case typ == "AWS::CloudTrail::Trail":
			t.Errorf("%s: the trail is the organization's", id)
		case strings.HasPrefix(typ, "AWS::IAM::"):
			for _, named := range []string{"RoleName", "ManagedPolicyName", "InstanceProfileName", "UserName", "GroupName"} {
				if props[named] != nil {
					t.Errorf("%s: %s %v: IAM names must be generated (CAPABILITY_IAM only)", id, named, props[named])
				}
			}
		case typ == "AWS::Lambda::Function":
			code := props["Code"].(map[string]any)
			if got := jsonOf(code["S3Bucket"]); got != `{"Fn::Sub":"${AssetBucketPrefix}-${AWS::Region}"}` {
				t.Errorf("%s: code bucket %s, want the region's asset bucket", id, got)
			}
			env := props["Environment"].(map[string]any)["Variables"].(map[string]any)
			if jsonOf(env["BUCKETGUARD_MODE"]) != `{"Ref":"Mode"}` {
				t.Errorf("%s: BUCKETGUARD_MODE %s, want the Mode parameter", id, jsonOf(env["BUCKETGUARD_MODE"]))
			}
		}
	}
	// Within what CloudFormation takes from S3, and over what a StackSet
	// takes inline (hence TemplateURL).
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
	if n := len(b); n > 1<<20 || n <= 51200 {
		t.Errorf("member template of %d bytes: the admin stack reads it by URL because it is over 51,200 and under 1 MB", n)
	}
	var params []string
	for name := range member["Parameters"].(map[string]any) {
		params = append(params, name)
	}
	sort.Strings(params)
	for _, want := range []string{ParamMode, ParamSweepSchedule, ParamSweepConcurrency, ParamRemediateConcurrency, ParamAssetBucketPrefix,
		ParamAssetKeyPrefix, ParamHeartbeatBus, AlertEmailParam(AlertEmailSlots), OpsEmailParam(OpsEmailSlots), OwnerParam(OwnerRouteSlots), OwnerEmailParam(OwnerRouteSlots)} {
		if !slices.Contains(params, want) {
			t.Errorf("no parameter %s in %v", want, params)
		}
	}
	subs := resources(member, "AWS::SNS::Subscription")
	if len(subs) != AlertEmailSlots+OpsEmailSlots+OwnerRouteSlots {
		t.Errorf("%d subscriptions, want one per slot", len(subs))
	}
	for id := range subs {
		if member["Resources"].(map[string]any)[id].(map[string]any)["Condition"] == nil {
			t.Errorf("subscription %s without a condition: an empty address would fail the stack", id)
		}
	}
	for id, p := range resources(member, "AWS::Events::Rule") {
		if name, ok := p["Name"].(string); ok && len(name) > 64 {
			t.Errorf("rule %s: name %q over 64 characters", id, name)
		}
		if name, ok := p["Name"].(map[string]any); ok {
			t.Errorf("rule %s: a name from the stack name (%s) is too long under a StackSet", id, jsonOf(name))
		}
	}
	if n := len(resources(member, "AWS::KMS::Key")); n != 0 {
		t.Errorf("%d KMS keys in the member template, want none", n)
	}
	// Both functions put on the central bus (heartbeats, outcomes), when
	// one is given, and on that bus only.
	var id string
	var pol map[string]any
	for pid, p := range resources(member, "AWS::IAM::Policy") {
		if strings.HasPrefix(pid, "CentralBus") {
			id, pol = pid, p
		}
	}
	if pol == nil {
		t.Fatal("no central bus policy in the member template")
	}
	if member["Resources"].(map[string]any)[id].(map[string]any)["Condition"] != "HasHeartbeatBus" ||
		len(pol["Roles"].([]any)) != 2 || !strings.Contains(jsonOf(pol["PolicyDocument"]), `"Resource":{"Ref":"`+ParamHeartbeatBus+`"}`) {
		t.Errorf("central bus policy %s: %s", id, jsonOf(pol))
	}
	var code []string
	for fid, fn := range resources(member, "AWS::Lambda::Function") {
		if !strings.Contains(jsonOf(fn["Environment"]), `"`+config.EnvHeartbeatBus+`":{"Ref":"`+ParamHeartbeatBus+`"}`) {
			t.Errorf("function %s is not told the central bus", fid)
		}
		c := jsonOf(fn["Code"])
		for _, name := range contract.AssetObjects {
			if strings.Contains(c, `"${`+ParamAssetKeyPrefix+`}`+name+`"`) {
				code = append(code, name)
			}
		}
	}
	// The code keys are the objects bucketguard publish writes.
	slices.Sort(code)
	if !slices.Equal(code, contract.AssetObjects) {
		t.Errorf("the member's functions read %v, bucketguard publish writes %v", code, contract.AssetObjects)
	}
}

func TestAdminStackStackSet(t *testing.T) {
	o, member, admin, _ := synthOrg(t)
	_, set := only(t, admin, "AWS::CloudFormation::StackSet")
	want := map[string]string{
		"PermissionModel": `"SERVICE_MANAGED"`, "StackSetName": `"BucketGuard"`, "CallAs": `"DELEGATED_ADMIN"`,
		"AutoDeployment":   `{"Enabled":true,"RetainStacksOnAccountRemoval":false}`,
		"ManagedExecution": `{"Active":true}`, "Capabilities": `["CAPABILITY_IAM"]`,
		"OperationPreferences": `{"ConcurrencyMode":"SOFT_FAILURE_TOLERANCE","FailureTolerancePercentage":10,"MaxConcurrentPercentage":25,"RegionConcurrencyType":"PARALLEL"}`,
	}
	for k, v := range want {
		if got := jsonOf(set[k]); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if set["TemplateBody"] != nil || !strings.Contains(jsonOf(set["TemplateURL"]), MemberTemplateFile) {
		t.Errorf("template: body %v, URL %s", set["TemplateBody"] != nil, jsonOf(set["TemplateURL"]))
	}
	groups := set["StackInstancesGroup"].([]any)
	if len(groups) != len(orgFixture.orgConfig.Rings) {
		t.Fatalf("%d stack instance groups, want one per ring", len(groups))
	}
	for i, ring := range orgFixture.orgConfig.Rings {
		g := jsonOf(groups[i])
		if !strings.Contains(g, `"OrganizationalUnitIds":{"Ref":"`+ringParam(ring)+`"}`) ||
			!strings.Contains(g, `{"ParameterKey":"Mode","ParameterValue":{"Ref":"`+ringModeParam(ring)+`"}}`) ||
			!strings.Contains(g, `"Regions":`+jsonOf(ring.Regions)) {
			t.Errorf("ring %s: %s", ring.Name, g)
		}
		if d := admin["Parameters"].(map[string]any)[ringModeParam(ring)].(map[string]any)["Default"]; d != ring.Mode {
			t.Errorf("ring %s: mode default %v, want %s", ring.Name, d, ring.Mode)
		}
	}
	// Every parameter the StackSet sets is one of the member's.
	for _, p := range set["Parameters"].([]any) {
		key := p.(map[string]any)["ParameterKey"].(string)
		if _, ok := member["Parameters"].(map[string]any)[key]; !ok {
			t.Errorf("the StackSet sets %s, which the member template does not have", key)
		}
	}
	if !strings.Contains(jsonOf(set["Parameters"]), `{"ParameterKey":"AlertEmail1","ParameterValue":"security@example.com"}`) {
		t.Errorf("alert e-mail not passed: %s", jsonOf(set["Parameters"]))
	}
	// The central bus: PutEvents from the organization only.
	_, pol := only(t, admin, "AWS::Events::EventBusPolicy")
	if s := jsonOf(pol); !strings.Contains(s, `"aws:PrincipalOrgID":{"Ref":"OrganizationId"}`) || !strings.Contains(s, `"events:PutEvents"`) {
		t.Errorf("bus policy: %s", s)
	}
	if o.Heartbeats == nil {
		t.Error("no heartbeat table")
	}
	// The members' outcomes are archived on it, and only they.
	_, archive := only(t, admin, "AWS::Events::Archive")
	if p := jsonOf(archive["EventPattern"]); p != `{"detail-type":["`+contract.OutcomeDetailType+`"],"source":["bucketguard"]}` ||
		jsonOf(archive["RetentionDays"]) != fmt.Sprint(OutcomeRetentionDays) {
		t.Errorf("archive: pattern %s, retention %s", p, jsonOf(archive["RetentionDays"]))
	}
	// No role the admin account could use to write into a member account.
	for id, r := range resources(admin, "AWS::IAM::Role") {
		s := jsonOf(r["AssumeRolePolicyDocument"])
		coverageReads := strings.HasPrefix(id, "Coverage") && strings.Contains(s, "lambda.amazonaws.com") // reads only (TestCoverageCheck)
		if !strings.Contains(s, "states.amazonaws.com") && !strings.Contains(s, "events.amazonaws.com") && !coverageReads {
			t.Errorf("role %s assumed by %s", id, s)
		}
	}
}

// The asset bucket's policy is not public, by bucketguard's own judge,
// and Block Public Access stays on.
func TestAssetBucketIsNotPublic(t *testing.T) {
	_, _, _, assets := synthOrg(t)
	for _, a := range assets {
		_, bucket := only(t, a, "AWS::S3::Bucket")
		if got := jsonOf(bucket["PublicAccessBlockConfiguration"]); got != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("Block Public Access: %s", got)
		}
		_, bp := only(t, a, "AWS::S3::BucketPolicy")
		doc := resolve(bp["PolicyDocument"])
		b, _ := json.Marshal(doc)
		d, err := policy.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if r := policy.Judge(d); r.Public {
			t.Errorf("the asset bucket's policy is public: %s\n%+v", b, r)
		}
		if !strings.Contains(string(b), `"aws:PrincipalOrgID":"o-exampleorgid1"`) {
			t.Errorf("policy without the organization: %s", b)
		}
	}
}

// resolve stands in for CloudFormation on a policy: the organization
// parameter and the bucket's ARN become literals.
func resolve(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"]; ok && ref == "OrganizationId" {
			return "o-exampleorgid1"
		}
		if _, ok := x["Fn::Join"]; ok {
			return "arn:aws:s3:::bucketguard-assets-111122223333-eu-west-1/*"
		}
		if _, ok := x["Fn::GetAtt"]; ok {
			return "arn:aws:s3:::bucketguard-assets-111122223333-eu-west-1"
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = resolve(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolve(e)
		}
		return out
	}
	return v
}

func TestOrgNag(t *testing.T) {
	synthOrg(t)
	for _, st := range orgFixture.stacks {
		ann := assertions.Annotations_FromStack(st)
		errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range append(*errs, *warns...) {
			t.Errorf("%s: %v", *st.StackName(), e.Entry.Data)
		}
	}
}

// maxMemberFixed bounds the member template's fixed monthly cost per
// account and region: ten alarm metrics, no key, no dashboard.
const maxMemberFixed = 1.00

func TestCostOfTheMember(t *testing.T) {
	_, member, admin, assets := synthOrg(t)
	for _, tpl := range append([]map[string]any{admin}, assets...) {
		b, _ := json.Marshal(tpl)
		bill, err := cost.Of(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(bill.Unpriced) > 0 {
			t.Errorf("unpriced: %v", bill.Unpriced)
		}
	}
	b, _ := json.Marshal(member)
	bill, err := cost.Of(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Unpriced) > 0 {
		t.Fatalf("unpriced: %v", bill.Unpriced)
	}
	if bill.Fixed > maxMemberFixed {
		t.Errorf("the member template costs $%.2f a month fixed, over $%.2f", bill.Fixed, maxMemberFixed)
	}
	golden.Section(t, "../docs/cost.md", "member", billTable(bill), *update)
}

func TestParseOrg(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1"}
	o, err := ParseOrg(true, regions)
	if err != nil || !o.Enabled || len(o.Rings) != 2 || o.CallAs != "DELEGATED_ADMIN" || !o.Heartbeats || !slices.Equal(o.Rings[1].Regions, regions) {
		t.Errorf("defaults: %+v %v", o, err)
	}
	if o, err := ParseOrg(nil, regions); err != nil || o.Enabled {
		t.Errorf("no org: %+v %v", o, err)
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"bad callAs", map[string]any{"callAs": "ADMIN"}, `callAs "ADMIN"`},
		{"bad ring name", map[string]any{"rings": []any{map[string]any{"name": "prod ring"}}}, `ring name "prod ring"`},
		{"bad mode", map[string]any{"rings": []any{map[string]any{"name": "Prod", "mode": "fix"}}}, `mode "fix"`},
		{"ring region without a bucket", map[string]any{"rings": []any{map[string]any{"name": "Prod", "regions": []any{"ap-south-1"}}}}, `region "ap-south-1" has no asset bucket`},
		{"twice", map[string]any{"rings": []any{map[string]any{"name": "Prod"}, map[string]any{"name": "Prod"}}}, "listed twice"},
		{"tolerance", map[string]any{"failureTolerancePercentage": 120}, "failureTolerancePercentage 120"},
		{"not an object", "maybe", `"maybe" is not true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOrg(tt.v, regions)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// The admin stack checks coverage on a schedule: the function reads the
// organization, the StackSet's instances and the heartbeats (nothing
// else), tells its topic, and the alarm fires on an uncovered
// account-region or when the check stops running.
func TestCoverageCheck(t *testing.T) {
	_, _, admin, _ := synthOrg(t)
	fns := resources(admin, "AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("%d functions in the admin stack", len(fns))
	}
	for _, f := range fns {
		env := jsonOf(f["Environment"])
		for _, want := range []string{"BUCKETGUARD_STACKSET", "BUCKETGUARD_COVERAGE_REGIONS", "BUCKETGUARD_OPS_TOPIC_ARN", "BUCKETGUARD_HEARTBEAT_TABLE"} {
			if !strings.Contains(env, want) {
				t.Errorf("the coverage function lacks %s: %s", want, env)
			}
		}
	}
	var actions []string
	for id, p := range resources(admin, "AWS::IAM::Policy") {
		if strings.HasPrefix(id, "Coverage") {
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				switch a := st.(map[string]any)["Action"].(type) {
				case string:
					actions = append(actions, a)
				case []any:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
			}
		}
	}
	slices.Sort(actions)
	want := []string{"cloudformation:ListStackInstances", "dynamodb:BatchGetItem",
		"organizations:DescribeOrganization", "organizations:ListAccounts", "sns:Publish"}
	if !slices.Equal(actions, want) {
		t.Errorf("coverage actions %v, want %v", actions, want)
	}
	found := false
	for _, a := range resources(admin, "AWS::CloudWatch::Alarm") {
		if strings.Contains(a["AlarmDescription"].(string), "not covered") {
			found = a["TreatMissingData"] == "breaching" && strings.Contains(jsonOf(a["AlarmActions"]), "CoverageTopic")
		}
	}
	if !found {
		t.Error("no alarm on uncovered account-regions (missing data breaching, to the coverage topic)")
	}
}
