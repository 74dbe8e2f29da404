package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
)

// With securityHub and chatTopic on, IAM grows by exactly
// securityhub:BatchImportFindings on the account's own product and
// securityhub:BatchUpdateFindings, the functions get the settings, a chat
// topic is added, and a failed report is one metric with one alarm. With
// them off (the shared fixture) none of it is there.
func TestFindingsContext(t *testing.T) {
	dist := fakeDist(t)
	s, err := ParseSettings(ctx(map[string]any{"regions": "eu-west-1", "account": "111122223333", "securityHub": true, "chatTopic": "true"}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Engine.SecurityHub || !s.ChatTopic {
		t.Fatalf("settings %+v", s)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dist, "cdk.out"))})
	stacks := NewApp(app, s, dist)
	tpl := *assertions.Template_FromStack(stacks[0].Stack, nil).ToJSON()
	for _, fn := range []string{"Remediate", "Sweep"} {
		var hub, scans []string
		for _, st := range policyOf(t, tpl, fn+"Role") {
			m := st.(map[string]any)
			for _, a := range strs(m["Action"]) {
				if strings.HasPrefix(a, "securityhub:") {
					hub = append(hub, a)
				}
				if a == "dynamodb:Scan" {
					scans = append(scans, jsonOf(m["Resource"]))
				}
			}
			switch m["Sid"] {
			case "ImportFindings":
				if r := jsonOf(m["Resource"]); !strings.Contains(r, ":securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default") {
					t.Errorf("%s: import granted on %s", fn, r)
				}
			case "UpdateFindings":
				if r := jsonOf(m["Resource"]); r != `"*"` {
					t.Errorf("%s: update granted on %s", fn, r)
				}
			case "PublishChat":
				if r := jsonOf(m["Resource"]); !strings.Contains(r, "AlertingChatTopic") {
					t.Errorf("%s: chat publish on %s", fn, r)
				}
			}
		}
		slices.Sort(hub)
		if want := []string{"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"}; !slices.Equal(hub, want) {
			t.Errorf("%s: Security Hub actions %v, want %v", fn, hub, want)
		}
		// The sweep's reconciliation reads the ledger's finding states,
		// and only it.
		if fn == "Sweep" && (len(scans) != 1 || !strings.Contains(scans[0], `"AlertingLedger`)) || fn == "Remediate" && len(scans) != 0 {
			t.Errorf("%s: dynamodb:Scan on %v", fn, scans)
		}
		env := jsonOf(function(t, tpl, fn)["Environment"])
		if !strings.Contains(env, `"`+config.EnvSecurityHub+`":"true"`) || !strings.Contains(env, `"`+config.EnvChatTopicARN+`":{"Ref":"AlertingChatTopic`) {
			t.Errorf("%s: environment %s", fn, env)
		}
	}
	var filters, alarms int
	for _, f := range resources(tpl, "AWS::Logs::MetricFilter") {
		if f["FilterPattern"] == contract.ReportFailedLines() {
			filters++
			if strings.Contains(jsonOf(f["MetricTransformations"]), "Dimensions") {
				t.Errorf("a dimension on ReportFailed: %s", jsonOf(f))
			}
		}
	}
	for _, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		if a["MetricName"] == "ReportFailed" {
			alarms++
		}
	}
	if filters != 2 || alarms != 1 {
		t.Errorf("%d ReportFailed filters, %d alarms; want one per function and one alarm", filters, alarms)
	}
	ann := assertions.Annotations_FromStack(stacks[0].Stack)
	errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, e := range append(*errs, *warns...) {
		t.Errorf("cdk-nag: %v", e.Entry.Data)
	}

	_, base, _ := synth(t)
	for _, fn := range []string{"Remediate", "Sweep"} {
		for _, st := range policyOf(t, base[0], fn+"Role") {
			if strings.Contains(jsonOf(st), "securityhub:") {
				t.Errorf("%s: Security Hub granted with the key off", fn)
			}
		}
	}
	if strings.Contains(jsonOf(base[0]), "ChatTopic") || strings.Contains(jsonOf(base[0]), "ReportFailed") {
		t.Error("chat topic or report alarm with the keys off")
	}
}

// With a central bus (heartbeatBus), both functions may put events on that
// bus and no other (the sweep's heartbeat, both functions' outcomes), both
// are told it, and a refused outcome is counted and alarmed on.
func TestCentralBusContext(t *testing.T) {
	dist := fakeDist(t)
	const bus = "arn:aws:events:us-east-1:999988887777:event-bus/bucketguard-central"
	s, err := ParseSettings(ctx(map[string]any{"regions": "eu-west-1", "account": "111122223333", "heartbeatBus": bus}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dist, "cdk.out"))})
	tpl := *assertions.Template_FromStack(NewApp(app, s, dist)[0].Stack, nil).ToJSON()
	for _, fn := range []string{"Remediate", "Sweep"} {
		var put []string
		for _, st := range policyOf(t, tpl, fn+"Role") {
			m := st.(map[string]any)
			if slices.Contains(strs(m["Action"]), "events:PutEvents") {
				put = append(put, strs(m["Resource"])...)
			}
		}
		if !slices.Equal(put, []string{bus}) {
			t.Errorf("%s: events:PutEvents on %v, want the central bus only", fn, put)
		}
		if env := jsonOf(function(t, tpl, fn)["Environment"]); !strings.Contains(env, `"`+config.EnvHeartbeatBus+`":"`+bus+`"`) {
			t.Errorf("%s: environment %s", fn, env)
		}
	}
	alarms := 0
	for _, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		if a["MetricName"] == "ReportFailed" {
			alarms++
		}
	}
	if alarms != 1 {
		t.Errorf("%d ReportFailed alarms, want 1", alarms)
	}
}
