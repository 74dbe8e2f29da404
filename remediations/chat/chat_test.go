package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/chat"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

const topic = "arn:aws:sns:eu-west-1:111122223333:bucketguard-chat"

func results() map[string]remediations.Result {
	t := posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-invoices"}
	long := strings.Repeat("a statement that grants s3:GetObject to everyone ", 200)
	return map[string]remediations.Result{
		"remediated": {Target: t, Mode: config.Enforce, Status: contract.Remediated, Severity: plan.High, Owner: "finance",
			Trigger:  &events.Change{EventID: "ev-1", Name: events.PutBucketPolicy, Time: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC), Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/alice"}},
			Findings: []plan.Finding{{ID: plan.PublicPolicyStatement, Severity: plan.High, Summary: "statement 1 grants s3:GetObject to everyone"}},
			Actions:  []remediations.ActionResult{{Action: plan.Action{Name: plan.RemovePublicPolicyStatements}, Outcome: remediations.Verified}}},
		"notified, long": {Target: t, Mode: config.Notify, Status: contract.Notified, Severity: plan.Critical, Run: "run-1",
			Findings: []plan.Finding{{ID: plan.PublicPolicyStatement, Severity: plan.Critical, Summary: long}, {ID: plan.PublicACLGrant, Severity: plan.High, Summary: long}}},
		"account level": {Target: posture.Target{Account: fake.Account, Region: "eu-west-1"}, Mode: config.Enforce, Status: contract.Reported, Severity: plan.Medium,
			Findings: []plan.Finding{{ID: plan.AccountBPAOff, Severity: plan.Medium, Summary: "account BPA off"}}},
	}
}

// Each notification follows the documented custom notification schema
// (testdata), with the alert's title, summary, severity and next steps.
func TestNotificationFollowsTheSchema(t *testing.T) {
	schema, err := jsonschema.Compile("testdata/custom-notification.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, res := range results() {
		t.Run(name, func(t *testing.T) {
			n := chat.Render(res)
			var v any
			if err := json.Unmarshal(n.JSON(), &v); err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Fatalf("%s:\n%s", err, n.JSON())
			}
			if !strings.HasPrefix(n.Content.Title, "bucketguard "+strings.ToUpper(string(res.Severity))) || len(n.Content.NextSteps) == 0 ||
				!strings.Contains(n.Content.Description, "*Severity:* "+strings.ToUpper(string(res.Severity))) {
				t.Errorf("title %q, description %q, next steps %v", n.Content.Title, n.Content.Description, n.Content.NextSteps)
			}
		})
	}
}

// A result with findings is published to the chat topic; a clean one is not;
// a publish that fails is one report-failed line, never silent.
func TestReporter(t *testing.T) {
	f := fake.New()
	r := &chat.Reporter{SNS: f.SNS(), TopicARN: topic}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	r.Report(context.Background(), results()["remediated"], log)
	r.Report(context.Background(), remediations.Result{Target: posture.Target{Bucket: "clean"}, Status: contract.Clean}, log)
	if got := f.Published(); len(got) != 1 || got[0].TopicARN != topic || !json.Valid([]byte(got[0].Message)) {
		t.Fatalf("published %+v", got)
	}
	f.Fault = fake.FailOp(op.Publish, errors.New("AuthorizationError: not allowed"))
	r.Report(context.Background(), results()["remediated"], log)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, logs.String())
	}
	if line[contract.FieldMsg] != contract.MsgReportFailed || line[contract.FieldTo] != contract.ToChat {
		t.Errorf("line %v", line)
	}
}

// With the ledger's marks, the same notification is posted once: a
// redelivered event or a retried attempt that says the same posts nothing
// more; a post that fails lets its mark go, so that the retry posts; an
// operator's run always posts.
func TestReporterPostsOnce(t *testing.T) {
	f := fake.New()
	r := &chat.Reporter{SNS: f.SNS(), TopicARN: topic, Sent: f.Store()}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	res := results()["remediated"]
	if res.Trigger == nil && res.Run == "" {
		t.Fatal("the sample result names no event or run")
	}
	for range 3 {
		r.Report(context.Background(), res, log)
	}
	if got := len(f.Published()); got != 1 {
		t.Fatalf("posted %d times, want once", got)
	}
	// Something new said about the same event is posted.
	more := res
	more.Findings = append(append([]plan.Finding{}, res.Findings...), plan.Finding{ID: plan.BPAOff, Severity: plan.Medium, Summary: "Block Public Access is off"})
	f.Fault = fake.FailOp(op.Publish, errors.New("Throttling"))
	r.Report(context.Background(), more, log)
	f.Fault = nil
	r.Report(context.Background(), more, log)
	if got := len(f.Published()); got != 2 {
		t.Errorf("posted %d times after a failed post and its retry, want 2", got)
	}
	byOperator := res
	byOperator.Trigger, byOperator.Run = nil, ""
	r.Report(context.Background(), byOperator, log)
	r.Report(context.Background(), byOperator, log)
	if got := len(f.Published()); got != 4 {
		t.Errorf("an operator's runs: posted %d in all, want 4", got)
	}
}
