package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"quamina.net/go/quamina"

	"github.com/bucketguard/bucketguard/events"
)

// The names of bucketguard's resources in the guarded-call samples
// (events/testdata/cloudtrail/guard), as CloudFormation would name them.
const sampleStack = "BucketGuard-eu-west-1"

var sampleOwn = Own{
	Rules:     []string{"BucketGuard-eu-west-1-DetectionRule8F875CCB-1QW2E3R4T5Y6", "BucketGuard-eu-west-1-SweepSchedule5ECAB4A7-9H8G7F6E5D4C"},
	Functions: []string{"BucketGuard-eu-west-1-RemediateFunction96205B86-Ab12Cd34Ef56", "BucketGuard-eu-west-1-SweepFunctionA7728703-Zx98Yw76Vu54"},
	// IAM's events reach EventBridge in us-east-1 only: the samples name
	// the us-east-1 stack's role.
	Roles: []string{"BucketGuard-us-east-1-RemediateRoleDEE912F2-1A2B3C4D5E6F", "BucketGuard-us-east-1-SweepRole8A7451E2-6F5E4D3C2B1A"},
	Topics: []string{"arn:aws:sns:eu-west-1:111122223333:BucketGuard-eu-west-1-AlertingTopic08189029-Qw3rTy7uI9oP",
		"arn:aws:sns:eu-west-1:111122223333:BucketGuard-eu-west-1-MonitoringOpsTopic5D6E7F80-As4dF6gH8jK0"},
	Queues: []string{"BucketGuard-eu-west-1-AlertingUndeliveredD7D66D29-Mn8Bv6Cx4Zl2", "BucketGuard-eu-west-1-RemediateFailures4CE316AE-Po0Iu9Yt8Re7",
		"BucketGuard-eu-west-1-RuleDeadLetters6F592DCF-Lk9Jh7Gf5Ds3", "BucketGuard-eu-west-1-SweepFailures8310807F-Qa1Ws2Ed3Rf4"},
	Keys:        []string{"arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
	AlarmPrefix: AlarmNamePrefix(sampleStack),
	LogGroups:   []string{"BucketGuard-eu-west-1-RemediateLogsB1E3C2D4-Kj7Hg5Fd3Sa1", "BucketGuard-eu-west-1-SweepLogs5A6B7C8D-Pl0Ok9Ij8Uh7"},
}

// watchdogMatcher holds every watchdog rule's pattern for the sample names,
// each under its rule's name, the $or expanded as for the detection rule.
func watchdogMatcher(t *testing.T) (*quamina.Quamina, map[string]string) {
	t.Helper()
	q, err := quamina.New()
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[string]string{}
	for _, r := range watchdogRules {
		own := sampleOwn
		switch r.name {
		case "rule":
			own.Rules = slices.Clone(sampleOwn.Rules)
			for _, other := range watchdogRules {
				if other.name != r.name {
					own.Rules = append(own.Rules, WatchdogRuleName(sampleStack, other.name))
				}
			}
		case "rule-guard":
			own.Rules = []string{WatchdogRuleName(sampleStack, "rule")}
		}
		pattern := WatchdogPattern(r.part, own)
		whole, _ := json.Marshal(pattern)
		lengths[r.name] = string(whole)
		for _, p := range expandOr(t, pattern) {
			if err := q.AddPattern(r.name, p); err != nil {
				t.Fatalf("quamina rejects %s: %v", p, err)
			}
		}
	}
	return q, lengths
}

func matches(t *testing.T, q *quamina.Quamina, raw []byte) []string {
	t.Helper()
	got, err := q.MatchesForEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range got {
		names = append(names, x.(string))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Every guarded-call sample is matched by exactly the rule of its part (the
// rule-guard for calls on the "rule" watcher itself); a failed call by none;
// the detection rule matches none of them.
func TestWatchdogMatchesTheSamples(t *testing.T) {
	q, _ := watchdogMatcher(t)
	s3, _ := quamina.New()
	for _, p := range expandOr(t, rulePattern()) {
		if err := s3.AddPattern("detection", p); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob("../events/testdata/cloudtrail/guard/*.json")
	if len(files) < len(events.Guarded()) {
		t.Fatalf("only %d samples for %d guarded names", len(files), len(events.Guarded()))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := events.ParseGuard(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want []string
		if g.Guarded() {
			want = []string{string(g.Part)}
			if g.Resource == WatchdogRuleName(sampleStack, "rule") {
				want = []string{"rule-guard"}
			}
		}
		if got := matches(t, q, raw); !slices.Equal(got, want) {
			t.Errorf("%s: matched by %v, want %v", filepath.Base(f), got, want)
		}
		if got := matches(t, s3, raw); len(got) > 0 {
			t.Errorf("%s: the detection rule matches it", filepath.Base(f))
		}
	}
}

// The same calls on resources that are not bucketguard's are not told; a
// trail is told whatever its name; each rule of the watchdog is guarded by
// another one.
func TestWatchdogEdgeCases(t *testing.T) {
	q, _ := watchdogMatcher(t)
	tests := []struct {
		name, sample string
		edit         func(d map[string]any)
		want         []string
	}{
		{"another function", "PutFunctionConcurrency20171031", func(d map[string]any) { params(d)["functionName"] = "orders-api" }, nil},
		{"another function by ARN", "UpdateFunctionConfiguration20150331v2", func(d map[string]any) {
			params(d)["functionName"] = "arn:aws:lambda:eu-west-1:111122223333:function:orders-api"
		}, nil},
		{"our function, partial ARN", "DeleteFunctionConcurrency20171031", func(d map[string]any) {}, []string{"function"}},
		{"our function, qualified", "UpdateFunctionConfiguration20150331v2", func(d map[string]any) {
			params(d)["functionName"] = sampleOwn.Functions[0] + ":$LATEST"
		}, []string{"function"}},
		{"a function whose name starts with ours", "UpdateFunctionConfiguration20150331v2", func(d map[string]any) {
			params(d)["functionName"] = sampleOwn.Functions[0] + "-copy"
		}, nil},
		{"another role", "DetachRolePolicy", func(d map[string]any) { params(d)["roleName"] = "orders-api-role" }, nil},
		{"our role, named in another case", "PutRolePolicy", func(d map[string]any) { params(d)["roleName"] = strings.ToUpper(sampleOwn.Roles[0]) }, []string{"role"}},
		{"another topic", "DeleteTopic", func(d map[string]any) { params(d)["topicArn"] = "arn:aws:sns:eu-west-1:111122223333:orders" }, nil},
		{"another topic's subscription", "Unsubscribe", func(d map[string]any) {
			params(d)["subscriptionArn"] = "arn:aws:sns:eu-west-1:111122223333:orders:6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
		}, nil},
		{"a topic whose name starts with ours", "Unsubscribe", func(d map[string]any) {
			params(d)["subscriptionArn"] = sampleOwn.Topics[0] + "-copy:6a1b2c3d"
		}, nil},
		{"another queue", "PurgeQueue", func(d map[string]any) {
			params(d)["queueUrl"] = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
		}, nil},
		{"another key", "DisableKey", func(d map[string]any) {
			d["resources"] = []any{map[string]any{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:eu-west-1:111122223333:key/other"}}
		}, nil},
		{"another rule", "DisableRule", func(d map[string]any) { params(d)["name"] = "orders-nightly" }, nil},
		{"the rule-guard removed", "RemoveTargets", func(d map[string]any) { params(d)["rule"] = WatchdogRuleName(sampleStack, "rule-guard") }, []string{"rule"}},
		{"the trail watcher disabled", "DisableRule", func(d map[string]any) { params(d)["name"] = WatchdogRuleName(sampleStack, "trail") }, []string{"rule"}},
		{"any trail", "StopLogging", func(d map[string]any) { params(d)["name"] = "someone-elses-trail" }, []string{"trail"}},
		{"failed trail call", "StopLogging", func(d map[string]any) { d["errorCode"] = "AccessDenied" }, nil},
		{"same name, another service", "DeleteTopic", func(d map[string]any) { d["eventSource"] = "ec2.amazonaws.com" }, nil},
		{"another team's alarms", "DeleteAlarms", func(d map[string]any) { params(d)["alarmNames"] = []any{"orders-5xx", "orders-latency"} }, nil},
		{"ours among others", "DisableAlarmActions", func(d map[string]any) {
			params(d)["alarmNames"] = []any{"orders-5xx", AlarmNamePrefix(sampleStack) + "Fights"}
		}, []string{"alarm"}},
		{"an alarm whose name holds ours, not begins with it", "PutMetricAlarm", func(d map[string]any) {
			params(d)["alarmName"] = "copy-of-" + AlarmNamePrefix(sampleStack) + "Fights"
		}, nil},
		{"another log group", "DeleteLogGroup", func(d map[string]any) { params(d)["logGroupName"] = "/aws/lambda/orders-api" }, nil},
		{"the sweep's log group", "PutMetricFilter", func(d map[string]any) { params(d)["logGroupName"] = sampleOwn.LogGroups[1] }, []string{"logs"}},
		{"the alarm watcher disabled", "DisableRule", func(d map[string]any) { params(d)["name"] = WatchdogRuleName(sampleStack, "alarm") }, []string{"rule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile("../events/testdata/cloudtrail/guard/" + tt.sample + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var env map[string]any
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			tt.edit(env["detail"].(map[string]any))
			raw, _ = json.Marshal(env)
			if got := matches(t, q, raw); !slices.Equal(got, tt.want) {
				t.Errorf("matched by %v, want %v", got, tt.want)
			}
		})
	}
}

func params(d map[string]any) map[string]any { return d["requestParameters"].(map[string]any) }

// EventBridge limits a pattern to 2,048 characters unless a quota increase
// is granted: with CloudFormation's names (as long as they get for this
// app's stack names), each watchdog rule stays well under.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
func TestWatchdogPatternSize(t *testing.T) {
	_, patterns := watchdogMatcher(t)
	for name, p := range patterns {
		// The longest region name adds a few characters to each name.
		n := len(p) + strings.Count(p, "eu-west-1")*5
		t.Logf("watchdog %s: %d characters", name, n)
		if n > 1800 {
			t.Errorf("watchdog %s pattern is %d characters: too close to EventBridge's 2,048", name, n)
		}
	}
}

// In the stack: one rule per watchdog rule, named, each delivering straight
// to the operations topic with an input transformer and a dead-letter
// queue, and to the remediate function; the topic lets EventBridge publish and the key lets it encrypt;
// each pattern names the stack's own resources.
func TestWatchdogInStack(t *testing.T) {
	_, tpls, _ := synth(t)
	for i, tpl := range tpls {
		opsID := ""
		for id := range resources(tpl, "AWS::SNS::Topic") {
			if strings.HasPrefix(id, "MonitoringOpsTopic") {
				opsID = id
			}
		}
		rules := map[string]map[string]any{}
		for id, r := range resources(tpl, "AWS::Events::Rule") {
			if strings.HasPrefix(id, "Watchdog") {
				rules[id] = r
			}
		}
		if len(rules) != len(watchdogRules) {
			t.Fatalf("stack %d: %d watchdog rules, want %d", i, len(rules), len(watchdogRules))
		}
		for _, wr := range watchdogRules {
			var rule map[string]any
			for id, r := range rules {
				if strings.HasPrefix(id, "Watchdog"+wr.id) && !strings.HasPrefix(id, "Watchdog"+wr.id+"Guard") {
					rule = r
				}
			}
			if rule == nil {
				t.Fatalf("no watchdog rule %s", wr.id)
			}
			if name := jsonOf(rule["Name"]); !strings.Contains(name, `"AWS::StackName"},"-watchdog-`+wr.name+`"`) {
				t.Errorf("%s: name %s", wr.id, name)
			}
			// Two targets: the operations topic, and the remediate
			// function (the whole event), which starts a sweep; one for
			// what watches bucketguard, whose calls miss no event.
			targets := rule["Targets"].([]any)
			if want := map[bool]int{true: 1, false: 2}[wr.part.Watches()]; len(targets) != want {
				t.Fatalf("%s: %d targets, want %d", wr.id, len(targets), want)
			}
			tg := targets[0].(map[string]any)
			if len(targets) == 2 {
				fn := targets[1].(map[string]any)
				if !strings.Contains(jsonOf(fn["Arn"]), `"Fn::GetAtt":["RemediateFunction`) || fn["InputTransformer"] != nil || fn["Input"] != nil || fn["DeadLetterConfig"] == nil {
					t.Errorf("%s: second target %s, want the remediate function with the whole event and a dead-letter queue", wr.id, jsonOf(fn))
				}
			}
			if jsonOf(tg["Arn"]) != `{"Ref":"`+opsID+`"}` || tg["DeadLetterConfig"] == nil || tg["RetryPolicy"] == nil {
				t.Errorf("%s: target %s, want the operations topic %s with a dead-letter queue", wr.id, jsonOf(tg), opsID)
			}
			it, _ := tg["InputTransformer"].(map[string]any)
			paths := jsonOf(it["InputPathsMap"])
			for _, p := range []string{"$.detail.userIdentity.arn", "$.detail.eventName", "$.detail.requestParameters", "$.detail.sourceIPAddress", "$.detail.eventTime"} {
				if !strings.Contains(paths, p) {
					t.Errorf("%s: input transformer lacks %s: %s", wr.id, p, paths)
				}
			}
			if tmpl, _ := it["InputTemplate"].(string); !strings.Contains(tmpl, "<detail-userIdentity-arn> called <detail-eventName> on") || !strings.Contains(tmpl, "may be blind or disarmed") {
				t.Errorf("%s: template %s", wr.id, tmpl)
			}
			pattern := rule["EventPattern"].(map[string]any)
			detail := pattern["detail"].(map[string]any)
			if jsonOf(detail["errorCode"]) != `[{"exists":false}]` || !slices.Equal(strs(detail["eventSource"]), events.GuardedSources(wr.part)) {
				t.Errorf("%s: detail %s", wr.id, jsonOf(detail))
			}
			want := map[string][]string{
				"Trail":     nil,
				"Rule":      {`"Ref":"DetectionRule`, `"Ref":"SweepSchedule`, `-watchdog-rule-guard"`, `-watchdog-key"`, `-watchdog-alarm"`, `-watchdog-logs"`},
				"RuleGuard": {`-watchdog-rule"`},
				"Function":  {`"Ref":"RemediateFunction`, `"Ref":"SweepFunction`},
				"Role":      {`"Ref":"RemediateRole`, `"Ref":"SweepRole`},
				"Topic":     {`"Ref":"AlertingTopic`, `"Ref":"` + opsID},
				"Queue":     {`"QueueName"`, `RuleDeadLetters`, `AlertingUndelivered`},
				"Key":       {`"Fn::GetAtt":["AlertingKey`},
				"Alarm":     {`{"prefix":{"Fn::Join":["",[{"Ref":"AWS::StackName"},"-alarm-"]]}}`},
				"Logs":      {`"Ref":"RemediateLogs`, `"Ref":"SweepLogs`},
			}[wr.id]
			for _, w := range want {
				if !strings.Contains(jsonOf(pattern), w) {
					t.Errorf("%s: pattern does not name %s: %s", wr.id, w, jsonOf(pattern))
				}
			}
		}
		// Every alarm is named under the prefix the alarm rule guards.
		for id, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
			if name := jsonOf(a["AlarmName"]); !strings.HasPrefix(name, `{"Fn::Join":["",[{"Ref":"AWS::StackName"},"-alarm-`) {
				t.Errorf("stack %d: alarm %s is named %s, outside the watchdog's prefix", i, id, name)
			}
		}
		var published bool
		for _, pol := range resources(tpl, "AWS::SNS::TopicPolicy") {
			j := jsonOf(pol)
			if strings.Contains(j, `"Ref":"`+opsID+`"`) && strings.Contains(j, `"Service":"events.amazonaws.com"`) && strings.Contains(j, `"sns:Publish"`) {
				published = true
			}
		}
		if !published {
			t.Errorf("stack %d: the operations topic's policy does not let EventBridge publish", i)
		}
		_, key := only(t, tpl, "AWS::KMS::Key")
		if k := jsonOf(key["KeyPolicy"]); !strings.Contains(k, `"Sid":"EventBridgePublishesToOpsTopic"`) || !strings.Contains(k, `"Service":"events.amazonaws.com"`) {
			t.Errorf("stack %d: the key does not let EventBridge encrypt for the topic: %s", i, k)
		}
	}
	res := tpls[0]["Resources"].(map[string]any)
	for _, id := range []string{
		"WatchdogTrail262EB03D", "WatchdogRuleB1A874CA", "WatchdogRuleGuardACFA61D6", "WatchdogFunction79A09A6B",
		"WatchdogRole42C06A58", "WatchdogTopic81C9B143", "WatchdogQueue4F9283B2", "WatchdogKey1E2372E4",
	} {
		if _, ok := res[id]; !ok {
			t.Errorf("logical id %s changed", id)
		}
	}
}
