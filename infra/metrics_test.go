package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// metricFilter is one AWS::Logs::MetricFilter of the template.
type metricFilter struct {
	id, pattern, metric, value string
	dimensions                 map[string]string
}

func metricFilters(t *testing.T, tpl map[string]any) []metricFilter {
	t.Helper()
	var out []metricFilter
	for id, props := range resources(tpl, "AWS::Logs::MetricFilter") {
		mt := props["MetricTransformations"].([]any)[0].(map[string]any)
		f := metricFilter{id: id, pattern: props["FilterPattern"].(string), metric: mt["MetricName"].(string), dimensions: map[string]string{}}
		f.value, _ = mt["MetricValue"].(string)
		if dims, ok := mt["Dimensions"].([]any); ok {
			for _, d := range dims {
				dm := d.(map[string]any)
				f.dimensions[dm["Key"].(string)] = dm["Value"].(string)
			}
		}
		out = append(out, f)
	}
	return out
}

// handlerLog is the remediate function's log for three events: one whose
// alert is published, one whose alert reaches neither SNS nor a queue, and
// one fixed while the ledger refuses its journal and AWS's policy check is
// throttled.
func handlerLog(t *testing.T) string {
	t.Helper()
	f := fake.New()
	buckets := []string{"acme-one", "acme-two", "acme-three"}
	for _, b := range buckets {
		f.Put(b, fake.Bucket{Policy: emulator.PolicyDoc(emulator.PublicReadStatement(b))})
	}
	var logs bytes.Buffer
	h := &handler.Handler{
		Incidents: wire(f, nil),
		Log:       slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	for i, b := range buckets {
		switch i {
		case 1:
			f.Fault = fake.FailOp("sns:Publish", fake.APIError("InternalError", "SNS is down"))
		case 2:
			f.Fault = nil
			h.Incidents = wire(f, f.Store())
			updates := 0
			f.Fault = func(o op.Operation, _ string, _ int) error {
				switch o {
				case op.UpdateItem:
					if updates++; updates == 2 { // the claim passes; the journal is refused
						return fake.APIError("InternalServerError", "the table is down")
					}
				case op.CheckNoPublicAccess:
					return fake.APIError("ThrottlingException", "rate exceeded")
				}
				return nil
			}
		}
		ev := eventFor(t, b)
		if _, err := h.Process(context.Background(), ev); (err != nil) != (i == 1) {
			t.Fatalf("event %d: err %v", i, err)
		}
	}
	return logs.String()
}

func eventFor(t *testing.T, bucket string) []byte {
	t.Helper()
	rec := map[string]any{"eventVersion": "1.11", "eventTime": "2026-11-30T12:00:00Z", "eventSource": events.EventSource,
		"eventName": "PutBucketPolicy", "awsRegion": "eu-west-1", "eventID": "ev-" + bucket, "recipientAccountId": fake.Account,
		"userIdentity":      map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
		"requestParameters": map[string]any{"bucketName": bucket}}
	b, err := json.Marshal(map[string]any{"version": "0", "id": "x", "detail-type": events.DetailType, "source": "aws.s3", "detail": rec})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type noInvoke struct{}

func (noInvoke) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return &lambda.InvokeOutput{}, nil
}

// sweepLog is the sweep's log for one run over three buckets, two of them
// public, while SNS is down: two bucket alerts and the summary undelivered.
func sweepLog(t *testing.T) (string, sweep.Tally) {
	t.Helper()
	f := fake.New()
	for _, b := range []string{"acme-a", "acme-b", "acme-c"} {
		on := posture.AllOn
		bk := fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"}, Policy: emulator.PolicyDoc(emulator.TLSStatement(b))}
		if b != "acme-c" {
			bk.Policy = emulator.PolicyDoc(emulator.PublicReadStatement(b), emulator.TLSStatement(b))
		}
		f.Put(b, bk)
	}
	on := posture.AllOn
	f.SetAccountBPA(&on) // the run's account-level evaluation finds nothing
	f.Fault = fake.FailOp("sns:Publish", fake.APIError("InternalError", "SNS is down"))
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := &sweep.Handler{
		Invocation: func(context.Context) (sweep.Invocation, bool) {
			return sweep.Invocation{RequestID: "run-1", FunctionARN: "arn:aws:lambda:eu-west-1:111122223333:function:sweep"}, true
		},
		Incidents: wire(f, nil),
		List:      f.S3(),
		Next:      noInvoke{},
		Options:   sweep.Options{Region: "eu-west-1", Concurrency: 2, Margin: time.Second},
		Log:       log,
	}
	cont := &sweep.Continuation{Run: "run-1", Part: 1}
	progress, err := h.Part(context.Background(), fake.Account, cont, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), []byte(`{"detail-type":"Scheduled Event"}`)); err == nil {
		t.Fatal("a run whose summary reached nothing must fail")
	}
	return logs.String(), progress.Tally
}

// The stack's metric filters, as synthesized, count the functions' real log
// lines: one Remediations count per bucket alert (with its status as the
// dimension), and one UndeliveredAlerts count per alert that reached neither
// SNS nor the fallback queue, never two.
func TestMetricFiltersCountRealLogLines(t *testing.T) {
	_, tpls, _ := synth(t)
	filters := metricFilters(t, tpls[0])
	if len(filters) != 11 {
		t.Fatalf("%d metric filters, want 5 per function and the canary's", len(filters))
	}
	hlog := handlerLog(t)
	slog, tally := sweepLog(t)
	if tally.Undelivered != 2 {
		t.Fatalf("tally counts %d undelivered alerts, want 2", tally.Undelivered)
	}
	logs := map[string][]map[string]any{"Remediate": jsonLines(t, hlog), "Sweep": jsonLines(t, slog)}
	want := map[string]map[string]int{
		// metric → function → count
		"Remediations":      {"Remediate": 3, "Sweep": 2}, // the part's 2 bucket alerts; Handle then finds them clean
		"UndeliveredAlerts": {"Remediate": 1, "Sweep": 3}, // the 2 bucket alerts and Handle's summary, once each
		"Unjournaled":       {"Remediate": 1, "Sweep": 0},
		"NoSecondOpinion":   {"Remediate": 1, "Sweep": 0},
		"Fights":            {"Remediate": 0, "Sweep": 0}, // its lines are counted in TestFightLinesAreCounted
		"CanaryDelay":       {"Remediate": 0, "Sweep": 0}, // no canary in these logs: TestCanaryLinesAreCounted
	}
	for _, f := range filters {
		fn := f.dimensions["Function"]
		if fn == "" { // one metric for every function: the filter's id names it
			for _, name := range []string{"Remediate", "Sweep"} {
				if strings.Contains(f.id, name) {
					fn = name
				}
			}
		}
		p, err := parseFilter(f.pattern)
		if err != nil {
			t.Fatalf("%s: %v", f.id, err)
		}
		n := 0
		for _, line := range logs[fn] {
			ok, err := p.match(line)
			if err != nil {
				t.Fatalf("%s: %v", f.id, err)
			}
			if !ok {
				continue
			}
			n++
			if sel, has := f.dimensions["Status"]; has {
				v, _ := selectField(line, sel)
				if v != string(contract.Remediated) {
					t.Errorf("%s: status dimension %v from %v", f.id, v, line)
				}
			}
		}
		if n != want[f.metric][fn] {
			t.Errorf("%s (%s, %s): %d lines counted, want %d\npattern %s", f.id, f.metric, fn, n, want[f.metric][fn], f.pattern)
		}
	}
	if !strings.Contains(hlog, `"kind":"bucket"`) || !strings.Contains(slog, `"kind":"sweep-summary"`) {
		t.Error("the alert lines do not say their kind")
	}
}

// wire wires the protocol over the fakes as start-up does, with the ledger
// given (nil: none).
func wire(f *fake.Fake, l startup.Ledger) *incident.Protocol {
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts"
	return startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), SNS: f.SNS(), Ledger: l})
}

// The fight filter counts the fight line the protocol logs, once per fight.
func TestFightLinesAreCounted(t *testing.T) {
	_, tpls, _ := synth(t)
	var pattern string
	for _, f := range metricFilters(t, tpls[0]) {
		if f.metric == "Fights" {
			pattern = f.pattern
		}
	}
	p, err := parseFilter(pattern)
	if err != nil {
		t.Fatal(err)
	}
	f := fake.New()
	cfg := config.Default()
	cfg.TopicARN, cfg.OpsTopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts", "arn:aws:sns:eu-west-1:111122223333:ops"
	h := &handler.Handler{Incidents: startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), SNS: f.SNS(), Analyzer: f.Analyzer(), Ledger: f.Store()})}
	var logs bytes.Buffer
	h.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	for i := range 4 {
		b, _ := f.Bucket("acme-one")
		b.Policy = emulator.PolicyDoc(emulator.PublicReadStatement("acme-one"))
		f.Put("acme-one", b)
		ev := bytes.Replace(eventFor(t, "acme-one"), []byte(`"ev-acme-one"`), []byte(fmt.Sprintf(`"ev-%d"`, i)), 1)
		if _, err := h.Process(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, line := range jsonLines(t, logs.String()) {
		if ok, err := p.match(line); err != nil {
			t.Fatal(err)
		} else if ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the fight filter counts %d lines over 4 fixes of one setting, want 1 (at the third)", n)
	}
}

// The canary's filter counts the remediate function's canary line, and its
// value is the line's delay.
func TestCanaryLinesAreCounted(t *testing.T) {
	_, tpls, _ := synth(t)
	var f metricFilter
	for _, mf := range metricFilters(t, tpls[0]) {
		if mf.metric == "CanaryDelay" {
			f = mf
		}
	}
	p, err := parseFilter(f.pattern)
	if err != nil {
		t.Fatal(err)
	}
	fk := fake.New()
	fk.Put("acme-canary", fake.Bucket{})
	cfg := config.Default()
	cfg.TopicARN, cfg.CanaryBucket = "arn:aws:sns:eu-west-1:111122223333:alerts", "acme-canary"
	var logs bytes.Buffer
	h := &handler.Handler{Incidents: startup.Wire(cfg, startup.Clients{S3: fk.S3(), Control: fk.Control(), SNS: fk.SNS(), Analyzer: fk.Analyzer()}),
		Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 3, 0, time.UTC) }}
	if _, err := h.Process(context.Background(), eventFor(t, "acme-canary")); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range jsonLines(t, logs.String()) {
		ok, err := p.match(line)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			n++
			if v, _ := selectField(line, f.value); v != float64(3000) {
				t.Errorf("metric value %v, want the delay 3000 ms", v)
			}
		}
	}
	if n != 1 {
		t.Errorf("the canary filter counts %d lines, want 1", n)
	}
}
