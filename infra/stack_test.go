package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

var (
	fixtureOnce sync.Once
	fixture     struct {
		settings  Settings
		stacks    []*Stack
		templates []map[string]any
		err       error
	}
)

// synth builds one app of two regions (the first with the trail) once for
// all tests: each synth through jsii costs seconds.
func synth(t *testing.T) ([]*Stack, []map[string]any, Settings) {
	t.Helper()
	fixtureOnce.Do(func() {
		dist, err := os.MkdirTemp("", "bucketguard-dist")
		for _, fn := range []string{"remediate", "sweep"} {
			if err == nil {
				err = os.MkdirAll(filepath.Join(dist, fn), 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(dist, fn, "bootstrap"), []byte("not a real binary"), 0o755)
			}
		}
		if err != nil {
			fixture.err = err
			return
		}
		s, err := ParseSettings(ctx(map[string]any{
			"regions": []any{"eu-west-1", "us-east-1"}, "account": "111122223333",
			"alertEmails": []any{"security@example.com"}, "opsEmails": []any{"ops@example.com"},
			"ownerRoutes": map[string]any{"web-team": "web@example.com"},
			"createTrail": true, "noInvocationsAlarmHours": float64(24),
		}), noEnv)
		if err != nil {
			fixture.err = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dist, "cdk.out"))})
		fixture.settings = s
		fixture.stacks = NewApp(app, s, dist)
		for _, st := range fixture.stacks {
			fixture.templates = append(fixture.templates, *assertions.Template_FromStack(st.Stack, nil).ToJSON())
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.stacks, fixture.templates, fixture.settings
}

func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

func only(t *testing.T, tpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, p := range rs {
		return id, p
	}
	return "", nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, i := range x {
			if s, ok := i.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func TestRulePatternInTemplate(t *testing.T) {
	stacks, tpls, _ := synth(t)
	tmpl := assertions.Template_FromStack(stacks[0].Stack, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), assertions.Match_ObjectLike(&map[string]any{
		"EventPattern": assertions.Match_ObjectLike(&map[string]any{
			"source":      []any{"aws.s3"},
			"detail-type": []any{"AWS API Call via CloudTrail"},
			"detail": assertions.Match_ObjectLike(&map[string]any{
				"eventSource": []any{"s3.amazonaws.com"},
				"errorCode":   []any{map[string]any{"exists": false}},
			}),
		}),
		"State": "ENABLED",
	}))
	var rule map[string]any
	for id, r := range resources(tpls[0], "AWS::Events::Rule") {
		if strings.HasPrefix(id, "DetectionRule") {
			rule = r
		}
	}
	detail := rule["EventPattern"].(map[string]any)["detail"].(map[string]any)
	if got := strs(detail["eventName"]); !slices.Equal(got, events.WatchedNames()) {
		t.Errorf("eventName %v, want the list from events: %v", got, events.WatchedNames())
	}
	or := detail["$or"].([]any)
	// Only the functions' own sessions (role name / function name) are
	// excluded, not every session of their roles.
	for _, fn := range []string{"Remediate", "Sweep"} {
		if want := `":assumed-role/",{"Ref":"` + fn + `Role`; len(or) != 2 || !strings.Contains(jsonOf(or), want) ||
			!strings.Contains(jsonOf(or), `"/",{"Ref":"`+fn+`Function`) {
			t.Errorf("$or does not exclude the %s function's own session: %s", fn, jsonOf(or))
		}
	}
	if strings.Contains(jsonOf(or), "sessionIssuer") {
		t.Errorf("$or excludes by session issuer (every session of a role): %s", jsonOf(or))
	}
	target := rule["Targets"].([]any)[0].(map[string]any)
	if target["DeadLetterConfig"] == nil || target["RetryPolicy"] == nil {
		t.Errorf("rule target without a dead-letter queue or retry policy: %s", jsonOf(target))
	}
}

// function returns the function whose logical id starts with prefix.
func function(t *testing.T, tpl map[string]any, prefix string) map[string]any {
	t.Helper()
	for id, fn := range resources(tpl, "AWS::Lambda::Function") {
		if strings.HasPrefix(id, prefix) {
			return fn
		}
	}
	t.Fatalf("no function %s", prefix)
	return nil
}

func TestFunctions(t *testing.T) {
	_, tpls, s := synth(t)
	for _, tpl := range tpls {
		if n := len(resources(tpl, "AWS::Lambda::Function")); n != 2 {
			t.Fatalf("%d functions, want remediate and sweep", n)
		}
		for _, f := range []struct {
			prefix          string
			memory, timeout float64
		}{{"RemediateFunction", remediateMemoryMB, remediateTimeout}, {"SweepFunction", sweepMemoryMB, 900}} {
			fn := function(t, tpl, f.prefix)
			if fn["Runtime"] != "provided.al2023" || !slices.Equal(strs(fn["Architectures"]), []string{"arm64"}) || fn["Handler"] != "bootstrap" {
				t.Errorf("%s: %s", f.prefix, jsonOf(fn))
			}
			if fn["MemorySize"] != f.memory || fn["Timeout"] != f.timeout {
				t.Errorf("%s: memory %v timeout %v", f.prefix, fn["MemorySize"], fn["Timeout"])
			}
			self := jsonOf(fn["Environment"].(map[string]any)["Variables"].(map[string]any)["BUCKETGUARD_SELF_ROLE_ARN"])
			if !strings.Contains(self, "RemediateRole") || !strings.Contains(self, "SweepRole") {
				t.Errorf("%s: BUCKETGUARD_SELF_ROLE_ARN does not name both roles: %s", f.prefix, self)
			}
		}
		fn := function(t, tpl, "RemediateFunction")
		// The remediate function's concurrency is reserved
		// (the default, from context), the sweep's is not.
		if fn["ReservedConcurrentExecutions"] != float64(DefaultRemediateConcurrency) {
			t.Errorf("remediate reserved concurrency %v, want %d", fn["ReservedConcurrentExecutions"], DefaultRemediateConcurrency)
		}
		if sw := function(t, tpl, "SweepFunction"); sw["ReservedConcurrentExecutions"] != nil {
			t.Errorf("sweep reserved concurrency %v, want none", sw["ReservedConcurrentExecutions"])
		}
		env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, k := range []string{"BUCKETGUARD_TOPIC_ARN", "BUCKETGUARD_SELF_ROLE_ARN", "BUCKETGUARD_ALERT_FALLBACK_QUEUE_URL", "BUCKETGUARD_ALERT_LEDGER_TABLE"} {
			if env[k] == nil {
				t.Errorf("environment lacks %s", k)
			}
		}
		for k, v := range s.Engine.Environ() {
			if env[k] != v {
				t.Errorf("environment %s = %v, want %q (from the same config the function parses)", k, env[k], v)
			}
		}
		invokes := resources(tpl, "AWS::Lambda::EventInvokeConfig")
		if len(invokes) != 2 {
			t.Errorf("%d async invoke configs", len(invokes))
		}
		for _, inv := range invokes {
			if inv["MaximumRetryAttempts"] != float64(2) || inv["MaximumEventAgeInSeconds"] != float64(6*3600) ||
				!strings.Contains(jsonOf(inv["DestinationConfig"]), "Failures") {
				t.Errorf("async invoke config %s", jsonOf(inv))
			}
		}
		for _, lg := range resources(tpl, "AWS::Logs::LogGroup") {
			if lg["RetentionInDays"] != float64(90) {
				t.Errorf("log retention %v", lg["RetentionInDays"])
			}
		}
		for id, q := range resources(tpl, "AWS::SQS::Queue") {
			if q["KmsMasterKeyId"] == nil && q["SqsManagedSseEnabled"] != true {
				t.Errorf("queue %s is not encrypted", id)
			}
		}
	}
}

func TestEncryptedTopicAndSubscriptions(t *testing.T) {
	_, tpls, _ := synth(t)
	tpl := tpls[0]
	keyID, key := only(t, tpl, "AWS::KMS::Key")
	if key["EnableKeyRotation"] != true {
		t.Error("key rotation off")
	}
	for id, topic := range resources(tpl, "AWS::SNS::Topic") {
		if !strings.Contains(jsonOf(topic["KmsMasterKeyId"]), keyID) {
			t.Errorf("topic %s not encrypted with the stack key", id)
		}
	}
	for _, pol := range resources(tpl, "AWS::SNS::TopicPolicy") {
		if !strings.Contains(jsonOf(pol), `"aws:SecureTransport":"false"`) || !strings.Contains(jsonOf(pol), `"Effect":"Deny"`) {
			t.Errorf("topic policy is not TLS-only: %s", jsonOf(pol))
		}
	}
	var filtered int
	for _, sub := range resources(tpl, "AWS::SNS::Subscription") {
		if sub["Protocol"] != "email" {
			t.Errorf("subscription %s", jsonOf(sub))
		}
		if fp := sub["FilterPolicy"]; fp != nil {
			filtered++
			if jsonOf(fp) != `{"owner":["web-team"]}` {
				t.Errorf("filter policy %s", jsonOf(fp))
			}
		}
	}
	if filtered != 1 {
		t.Errorf("%d owner subscriptions, want 1", filtered)
	}
}

// policyOf returns the statements of the policies attached to a role.
func policyOf(t *testing.T, tpl map[string]any, rolePrefix string) []any {
	t.Helper()
	var stmts []any
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		if strings.Contains(jsonOf(pol["Roles"]), `"Ref":"`+rolePrefix) {
			stmts = append(stmts, pol["PolicyDocument"].(map[string]any)["Statement"].([]any)...)
		}
	}
	if len(stmts) == 0 {
		t.Fatalf("no policy for %s", rolePrefix)
	}
	return stmts
}

// Each role can do exactly what its function does: the engine's reads on
// this account's buckets and access points and the account-level reads on
// "*"; its writes, in a policy of their own, only from the function itself
// (lambda:SourceFunctionArn); the sweep also lists buckets and invokes itself.
func TestIAMExactActions(t *testing.T) {
	_, tpls, s := synth(t)
	checkRole(t, tpls[0], "Remediate", s, nil, []string{"lambda:InvokeFunction"})
	// The remediate function may start the sweep, and nothing else, and
	// names it in its environment.
	for _, st := range policyOf(t, tpls[0], "RemediateRole") {
		m := st.(map[string]any)
		if slices.Contains(strs(m["Action"]), "lambda:InvokeFunction") && (m["Sid"] != "StartSweep" || jsonOf(m["Resource"]) != `{"Fn::GetAtt":["SweepFunctionA7728703","Arn"]}`) {
			t.Errorf("the remediate function may invoke more than the sweep: %s", jsonOf(m))
		}
	}
	remediate := resources(tpls[0], "AWS::Lambda::Function")["RemediateFunction96205B86"]
	if env := jsonOf(remediate["Environment"]); !strings.Contains(env, `"`+config.EnvSweepFunction+`":{"Fn::GetAtt":["SweepFunctionA7728703","Arn"]}`) {
		t.Errorf("the remediate function does not name the sweep: %s", env)
	}
	checkRole(t, tpls[0], "Sweep", s, []string{"s3:ListAllMyBuckets", "cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"}, []string{"lambda:InvokeFunction"})
	for _, st := range policyOf(t, tpls[0], "SweepRole") {
		m := st.(map[string]any)
		if m["Sid"] == "ContinueRun" && !strings.Contains(jsonOf(m["Resource"]), "SweepFunction") {
			t.Errorf("the sweep may invoke more than itself: %s", jsonOf(m))
		}
	}
}

// statementsOf returns the statements of one of the function's policies:
// the role's default policy ("DefaultPolicy") or its writes ("Writes").
func statementsOf(t *testing.T, tpl map[string]any, fn, which string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, pol := range resources(tpl, "AWS::IAM::Policy") {
		if !strings.HasPrefix(id, fn) || !strings.Contains(id, which) {
			continue
		}
		for _, st := range pol["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			sid, _ := m["Sid"].(string)
			out[sid] = m
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s policy for %s", which, fn)
	}
	return out
}

// accountExtra are the actions on "*" beyond the engine's; extra the others.
func checkRole(t *testing.T, tpl map[string]any, fn string, s Settings, accountExtra, extra []string) {
	t.Helper()
	reads, writes := statementsOf(t, tpl, fn, "DefaultPolicy"), statementsOf(t, tpl, fn, "Writes")
	sorted := func(v any) []string {
		a := strs(v)
		sort.Strings(a)
		return a
	}
	for _, k := range []struct {
		name string
		on   op.Resource
		arn  string
	}{
		{"Buckets", op.Bucket, `":s3:::*"`},
		{"AccessPoints", op.AccessPointARN, `":accesspoint/*"`},
		{"ObjectLambdaAccessPoints", op.ObjectLambdaARN, `":s3-object-lambda:"`},
		{"MultiRegionAccessPoints", op.MultiRegionARN, `":s3::"`},
	} {
		r, w := reads["Read"+k.name], writes["Fix"+k.name]
		if got, want := sorted(r["Action"]), s.Engine.ReadActions(k.on); !slices.Equal(got, want) {
			t.Errorf("%s: read actions on %s %v, want %v", fn, k.name, got, want)
		}
		if got, want := sorted(w["Action"]), s.Engine.WriteActions(k.on); !slices.Equal(got, want) {
			t.Errorf("%s: write actions on %s %v, want %v", fn, k.name, got, want)
		}
		for _, st := range []map[string]any{r, w} {
			if !strings.Contains(jsonOf(st["Resource"]), strings.Trim(k.arn, `"`)) {
				t.Errorf("%s: %s resource %s", fn, k.name, jsonOf(st["Resource"]))
			}
		}
		// Every write is tied to the function's own credentials.
		cond := jsonOf(w["Condition"])
		if !strings.Contains(cond, `"ArnLike":{"lambda:SourceFunctionArn":[{"Fn::GetAtt":["`+fn+`Function`) {
			t.Errorf("%s: writes on %s not tied to the function: %s", fn, k.name, cond)
		}
		if k.on == op.Bucket {
			for _, st := range []map[string]any{r, w} {
				if !strings.Contains(jsonOf(st["Condition"]), `"s3:ResourceAccount":{"Ref":"AWS::AccountId"}`) {
					t.Errorf("%s: bucket actions not limited to this account's buckets", fn)
				}
			}
		}
	}
	account := append(s.Engine.ReadActions(op.Account), accountExtra...)
	if got := strs(reads["ReadAccount"]["Action"]); !slices.Equal(got, account) {
		t.Errorf("%s: account reads %v, want %v", fn, got, account)
	}
	if acts := s.Engine.WriteActions(op.Account); len(acts) > 0 && !slices.Equal(strs(writes["FixAccount"]["Action"]), acts) {
		t.Errorf("%s: account writes %v", fn, strs(writes["FixAccount"]["Action"]))
	}
	var all []string
	for _, st := range policyOf(t, tpl, fn+"Role") {
		all = append(all, strs(st.(map[string]any)["Action"])...)
	}
	want := append(append(append(append(s.Engine.BucketActions(), s.Engine.AccountActions()...), accountExtra...), extra...),
		"sns:Publish", "sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt", "logs:CreateLogStream", "logs:PutLogEvents",
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"sqs:GetQueueAttributes", "sqs:GetQueueUrl") // the last two: CDK's grant for the on-failure destination
	for _, r := range []op.Resource{op.AccessPointARN, op.ObjectLambdaARN, op.MultiRegionARN} {
		want = append(want, s.Engine.Actions(r)...)
	}
	for _, a := range all {
		if !slices.Contains(want, a) {
			t.Errorf("%s: unexpected action %s", fn, a)
		}
		if strings.Contains(a, "*") || strings.Contains(strings.ReplaceAll(a, "ObjectLambda", ""), "Object") {
			t.Errorf("%s: action %s is a wildcard or touches object data", fn, a)
		}
	}
}

func TestCdkNagAwsSolutions(t *testing.T) {
	stacks, _, _ := synth(t)
	for _, st := range stacks {
		ann := assertions.Annotations_FromStack(st.Stack)
		errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range append(*errs, *warns...) {
			t.Errorf("%s: %v", *st.StackName(), e.Entry.Data)
		}
	}
}

// Logical IDs of stateful or referenced resources must not drift: a new ID
// replaces the resource on the next deploy.
func TestStableLogicalIDs(t *testing.T) {
	_, tpls, _ := synth(t)
	res := tpls[0]["Resources"].(map[string]any)
	for _, id := range []string{
		"AlertingKeyF32BC376", "AlertingTopic08189029", "AlertingUndeliveredD7D66D29",
		"RemediateRoleDEE912F2", "RemediateFunction96205B86", "RemediateLogs4334CAD5", "RemediateFailures4CE316AE",
		"DetectionRule8F875CCB", "RuleDeadLetters6F592DCF", "AlertingLedger2F1F7669",
		"SweepRole8A7451E2", "SweepFunctionA7728703", "SweepSchedule5ECAB4A7", "SweepFailures8310807F",
	} {
		if _, ok := res[id]; !ok {
			t.Errorf("logical id %s changed", id)
		}
	}
}

func TestMultiRegionAndTrail(t *testing.T) {
	stacks, tpls, _ := synth(t)
	if len(stacks) != 2 || *stacks[0].Region() != "eu-west-1" || *stacks[1].Region() != "us-east-1" || *stacks[1].StackName() != "BucketGuard-us-east-1" {
		t.Fatalf("stacks %d", len(stacks))
	}
	_, trail := only(t, tpls[0], "AWS::CloudTrail::Trail")
	if trail["IsMultiRegionTrail"] != true || trail["EnableLogFileValidation"] != true || trail["IncludeGlobalServiceEvents"] != true {
		t.Errorf("trail %s", jsonOf(trail))
	}
	var b map[string]any
	for id, r := range resources(tpls[0], "AWS::S3::Bucket") {
		if strings.HasPrefix(id, "Trail") {
			b = r
		}
	}
	if jsonOf(b["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` ||
		b["BucketEncryption"] == nil || b["LifecycleConfiguration"] == nil {
		t.Errorf("trail bucket %s", jsonOf(b))
	}
	for _, p := range resources(tpls[0], "AWS::S3::BucketPolicy") {
		if !strings.Contains(jsonOf(p), `"aws:SecureTransport":"false"`) {
			t.Error("trail bucket is not TLS-only")
		}
	}
	if len(resources(tpls[1], "AWS::CloudTrail::Trail")) != 0 {
		t.Error("second region created another multi-region trail")
	}
	if out := tpls[1]["Outputs"].(map[string]any); out["TrailRequired"] == nil {
		t.Error("no trail reminder where no trail is created")
	}
}

func TestAlarmsAndDashboard(t *testing.T) {
	_, tpls, _ := synth(t)
	alarms := resources(tpls[0], "AWS::CloudWatch::Alarm")
	var names []string
	for _, a := range alarms {
		names = append(names, a["AlarmDescription"].(string))
		if !strings.Contains(jsonOf(a["AlarmActions"]), "MonitoringOpsTopic") {
			t.Errorf("alarm without the ops topic: %s", a["AlarmDescription"])
		}
	}
	joined := strings.Join(names, "\n")
	for _, want := range []string{"failed (errors)", "throttled", "no invocation for 24 hours", "queue RemediateFailures", "queue RuleDeadLetters",
		"queue UndeliveredAlerts", "reached neither SNS", "bucketguard Sweep: the function failed", "queue SweepFailures"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no alarm on %q:\n%s", want, joined)
		}
	}
	if n := len(resources(tpls[0], "AWS::CloudWatch::Dashboard")); n != 0 {
		t.Errorf("%d dashboards: the dashboard is optional (context dashboard), off by default", n)
	}
}

func TestSweepSchedule(t *testing.T) {
	_, tpls, _ := synth(t)
	var schedules []string
	for id, r := range resources(tpls[0], "AWS::Events::Rule") {
		if se, ok := r["ScheduleExpression"].(string); ok {
			schedules = append(schedules, se)
			if !strings.HasPrefix(id, "Sweep") || !strings.Contains(jsonOf(r["Targets"]), "SweepFunction") || !strings.Contains(jsonOf(r["Targets"]), "DeadLetterConfig") {
				t.Errorf("schedule rule %s: %s", id, jsonOf(r))
			}
		}
	}
	if !slices.Equal(schedules, []string{"rate(1 day)"}) {
		t.Errorf("schedules %v", schedules)
	}
}

// The canary: a private, encrypted, tagged bucket of its own; a schedule
// that calls S3's PutPublicAccessBlock on it, through a role that may do only
// that and that the detection rule does not exclude; the remediate
// function told which bucket is the canary's; an alarm when none arrives.
func TestCanary(t *testing.T) {
	_, tpls, _ := synth(t)
	tpl := tpls[0]
	_, sched := only(t, tpl, "AWS::Scheduler::Schedule")
	target := sched["Target"].(map[string]any)
	if target["Arn"] != "arn:aws:scheduler:::aws-sdk:s3:putPublicAccessBlock" || sched["ScheduleExpression"] != "rate(1 hour)" ||
		!strings.Contains(jsonOf(target["Input"]), `\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":true,\"BlockPublicPolicy\":true,\"IgnorePublicAcls\":true,\"RestrictPublicBuckets\":true}`) ||
		strings.Contains(jsonOf(target["Input"]), "Tagging") || !strings.Contains(jsonOf(target["RoleArn"]), "CanaryRole") {
		t.Errorf("schedule %s", jsonOf(sched))
	}
	for id, b := range resources(tpl, "AWS::S3::Bucket") {
		if !strings.HasPrefix(id, "Canary") {
			continue
		}
		if jsonOf(b["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` ||
			b["BucketEncryption"] == nil || !strings.Contains(jsonOf(b["Tags"]), CanaryTag) {
			t.Errorf("canary bucket %s", jsonOf(b))
		}
	}
	for id, p := range resources(tpl, "AWS::IAM::Policy") {
		if strings.HasPrefix(id, "CanaryRole") {
			if got := jsonOf(p["PolicyDocument"]); !strings.Contains(got, `"Action":"s3:PutBucketPublicAccessBlock"`) || strings.Count(got, `"Action"`) != 1 {
				t.Errorf("canary role policy %s", got)
			}
		}
	}
	for _, r := range resources(tpl, "AWS::Events::Rule") {
		if strings.Contains(jsonOf(r["EventPattern"]), "CanaryRole") {
			t.Errorf("a rule excludes the canary's role: %s", jsonOf(r["EventPattern"]))
		}
	}
	fn := resources(tpl, "AWS::Lambda::Function")
	found := false
	for id, f := range fn {
		if strings.HasPrefix(id, "Remediate") && strings.Contains(jsonOf(f["Environment"]), "BUCKETGUARD_CANARY_BUCKET") {
			found = true
		}
	}
	if !found {
		t.Error("the remediate function is not told the canary's bucket")
	}
	for _, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		if strings.Contains(a["AlarmDescription"].(string), "no canary") && (a["TreatMissingData"] != "breaching" || a["Statistic"] != "SampleCount") {
			t.Errorf("canary alarm %s", jsonOf(a))
		}
	}
}
