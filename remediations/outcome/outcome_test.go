package outcome_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/outcome"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

const bus = "arn:aws:events:us-east-1:999988887777:event-bus/bucketguard-central"

func remediated() remediations.Result {
	return remediations.Result{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-invoices"}, Mode: config.Enforce,
		Status: contract.Remediated, Severity: plan.High, Owner: "finance", Started: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC),
		Trigger:  &events.Change{EventID: "ev-1", Name: events.PutBucketPolicy, Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/alice"}},
		Findings: []plan.Finding{{ID: plan.PublicPolicyStatement, Severity: plan.High, Summary: "statement 1 grants s3:GetObject to everyone"}},
		Actions:  []remediations.ActionResult{{Action: plan.Action{Name: plan.RemovePublicPolicyStatements}, Outcome: remediations.Verified}}}
}

func logger(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// An evaluation that found something is one event on the central bus: the
// alert's machine document as detail (the JSON the owner's message
// carries), the bucket's ARN as resource, the outcome detail type.
func TestOutcomeIsTheAlertDocumentOnTheCentralBus(t *testing.T) {
	b := &fake.Bus{}
	r := &outcome.Reporter{Client: b, Bus: bus}
	var logs bytes.Buffer
	res := remediated()
	r.Report(context.Background(), res, logger(&logs))
	got := b.Entries()
	if len(got) != 1 || b.Calls() != 1 {
		t.Fatalf("%d entries in %d calls, want one", len(got), b.Calls())
	}
	e := got[0]
	if aws.ToString(e.EventBusName) != bus || aws.ToString(e.Source) != contract.HeartbeatSource || aws.ToString(e.DetailType) != contract.OutcomeDetailType ||
		len(e.Resources) != 1 || e.Resources[0] != "arn:aws:s3:::acme-invoices" {
		t.Errorf("entry %+v", e)
	}
	want := alert.Render(res).Document.JSON()
	if aws.ToString(e.Detail) != string(want) {
		t.Errorf("detail\n%s\nwant the alert document\n%s", aws.ToString(e.Detail), want)
	}
	if logs.Len() != 0 {
		t.Errorf("a delivered outcome logged: %s", logs.String())
	}
}

// A clean result sends nothing (the heartbeat counts those); every other
// status sends one event.
func TestOnlyResultsWithSomethingToTellAreSent(t *testing.T) {
	for _, s := range []contract.Status{contract.Clean, contract.Remediated, contract.Partial, contract.Failed, contract.Notified, contract.Reported, contract.BucketGone} {
		b := &fake.Bus{}
		res := remediated()
		res.Status = s
		(&outcome.Reporter{Client: b, Bus: bus}).Report(context.Background(), res, logger(&bytes.Buffer{}))
		want := 1
		if s == contract.Clean {
			want = 0
		}
		if b.Calls() != want {
			t.Errorf("%s: %d calls, want %d", s, b.Calls(), want)
		}
	}
}

// An account-level result (no bucket) names no resource.
func TestAccountLevelOutcomeNamesNoBucket(t *testing.T) {
	res := remediated()
	res.Target.Bucket = ""
	e := outcome.Entry(bus, res)
	if len(e.Resources) != 0 {
		t.Errorf("resources %v", e.Resources)
	}
}

// A document that would make the entry weigh 256 KB or more is shortened
// by the alert's steps until it fits: characters JSON could escape ("<"
// is one byte in the alert, six if escaped) count as the alert counts
// them, the error is cut too, and the lists stay lists. Status, severity
// and bucket always stay.
func TestOutcomeFitsOneEntry(t *testing.T) {
	long := strings.Repeat("a statement that grants s3:GetObject to everyone ", 300)
	cases := map[string]func(*remediations.Result){
		"many long findings and notes": func(r *remediations.Result) {
			for i := 0; i < 40; i++ {
				r.Findings = append(r.Findings, plan.Finding{ID: plan.PublicPolicyStatement, Severity: plan.High, Summary: long})
				r.Notes = append(r.Notes, long)
			}
		},
		"an error of angle brackets": func(r *remediations.Result) { r.Status, r.Error = contract.Failed, strings.Repeat("<", 60000) },
		"findings of ampersands": func(r *remediations.Result) {
			for i := 0; i < 20; i++ {
				r.Findings = append(r.Findings, plan.Finding{ID: plan.PublicPolicyStatement, Severity: plan.High, Summary: strings.Repeat("<&>", 2000)})
			}
		},
		"an enormous before/after": func(r *remediations.Result) {
			r.Actions[0].Before, r.Actions[0].After = strings.Repeat(`{"Sid":"<x>"}`, 15000), strings.Repeat("&", 100000)
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			res := remediated()
			edit(&res)
			e := outcome.Entry(bus, res)
			if n := outcome.Size(e, aws.ToString(e.Detail)); n >= outcome.MaxEntry {
				t.Fatalf("entry weighs %d bytes, not under %d", n, outcome.MaxEntry)
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
				t.Fatal(err)
			}
			if d["status"] != string(res.Status) || d["severity"] != string(plan.High) || d["bucket"] != "acme-invoices" {
				t.Errorf("headline lost: %v %v %v", d["status"], d["severity"], d["bucket"])
			}
			if _, ok := d["findings"].([]any); !ok {
				t.Errorf("findings %v: want a list", d["findings"])
			}
			if _, ok := d["actions"].([]any); !ok {
				t.Errorf("actions %v: want a list", d["actions"])
			}
		})
	}
	// A document that fits as it is keeps every finding.
	res := remediated()
	for i := 0; i < 20; i++ {
		res.Findings = append(res.Findings, plan.Finding{ID: plan.PublicPolicyStatement, Severity: plan.High, Summary: strings.Repeat("<&>", 2000)})
	}
	var d alert.Document
	if err := json.Unmarshal([]byte(aws.ToString(outcome.Entry(bus, res).Detail)), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Findings) != 21 || d.Truncated {
		t.Errorf("%d findings, truncated %v: want all 21, whole", len(d.Findings), d.Truncated)
	}
}

// A put on a hung bus returns by the invocation's deadline when that comes
// before the call timeout.
func TestHungBusReturnsByTheDeadline(t *testing.T) {
	hung := hangingBus{}
	r := &outcome.Reporter{Client: hung, Bus: bus, CallTimeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var logs bytes.Buffer
	done := make(chan struct{})
	go func() {
		r.Report(ctx, remediated(), logger(&logs))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the put outlived the invocation's deadline")
	}
	if !strings.Contains(logs.String(), contract.MsgReportFailed) {
		t.Errorf("a timed-out put was silent: %s", logs.String())
	}
}

type hangingBus struct{}

func (hangingBus) PutEvents(ctx context.Context, _ *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A refused outcome (an entry refused, or the call failing) is one
// report-failed line naming the central bus; it never panics or blocks.
func TestRefusedOutcomeIsAReportFailedLine(t *testing.T) {
	for name, b := range map[string]*fake.Bus{
		"entry refused": {Refuse: "AccessDeniedException"},
		"call failed":   {Err: errors.New("connection refused")},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			(&outcome.Reporter{Client: b, Bus: bus}).Report(context.Background(), remediated(), logger(&logs))
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, logs.String())
			}
			if line[contract.FieldMsg] != contract.MsgReportFailed || line[contract.FieldTo] != contract.ToCentral || line["bus"] != bus {
				t.Errorf("line %v", line)
			}
		})
	}
}
