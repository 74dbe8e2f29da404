package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

const topic = "arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts"

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "testdata", "cloudtrail", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type rig struct {
	f    *fake.Fake
	h    *handler.Handler
	logs *bytes.Buffer
}

func newRig(t *testing.T) rig {
	t.Helper()
	f := fake.New()
	self, err := events.ParseRole("arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r := rig{f: f, logs: &logs, h: &handler.Handler{Self: []events.Role{self}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}}
	r.wire(nil)
	return r
}

// wire wires the handler's protocol over the fakes as start-up does, with
// the ledger given (nil: none).
func (r rig) wire(l startup.Ledger) {
	cfg := config.Default()
	cfg.TopicARN = topic
	if r.h.Incidents != nil {
		cfg = r.h.Incidents.Engine.Config
	}
	r.h.Incidents = startup.Wire(cfg, startup.Clients{S3: r.f.S3(), Control: r.f.Control(), Analyzer: r.f.Analyzer(), SNS: r.f.SNS(), Ledger: l})
	r.h.Incidents.Engine.Now = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
}

// invoke goes through the same entry point lambda.Start uses.
func (r rig) invoke(t *testing.T, raw []byte) error {
	t.Helper()
	_, err := lambda.NewHandler(r.h.Handle).Invoke(context.Background(), raw)
	return err
}

func TestPublicPolicyEventIsFixedAndAlerted(t *testing.T) {
	r := newRig(t)
	r.f.Put("acme-invoices-prod", fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-invoices-prod/*"}]}`,
		Tags: map[string]string{"owner": "finance"}})
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	pub := r.f.Published()
	if len(pub) != 1 {
		t.Fatalf("%d messages published", len(pub))
	}
	if pub[0].Attributes["owner"] != "finance" || pub[0].Attributes["bucket"] != "acme-invoices-prod" || pub[0].Structure != "json" {
		t.Errorf("message %+v", pub[0])
	}
	// Every log line carries the event id and the bucket.
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["event_id"] == nil || m["bucket"] != "acme-invoices-prod" {
			t.Errorf("log line without event_id/bucket: %s", line)
		}
	}
	// A second delivery of the same event: nothing to write or say.
	r.f.Reset()
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	if r.f.Writes() != 0 || len(r.f.Published()) != 1 {
		t.Errorf("redelivery: %d writes, %d messages in all", r.f.Writes(), len(r.f.Published()))
	}
}

func TestSkippedEventsCostNothing(t *testing.T) {
	for _, s := range []string{"PutBucketPolicy-self", "PutBucketPolicy-denied", "PutBucketCors-unwatched"} {
		t.Run(s, func(t *testing.T) {
			r := newRig(t)
			r.f.Put("acme-invoices-prod", fake.Bucket{})
			if err := r.invoke(t, sample(t, s)); err != nil {
				t.Fatal(err)
			}
			if n := r.f.Count(); n != 0 {
				t.Errorf("%d AWS calls for a skipped event", n)
			}
			if !strings.Contains(r.logs.String(), `"msg":"skip"`) || !strings.Contains(r.logs.String(), `"reason"`) {
				t.Errorf("no skip line with a reason: %s", r.logs.String())
			}
		})
	}
}

func TestMalformedEventIsAnErrorNotAPanic(t *testing.T) {
	r := newRig(t)
	// Not JSON at all: the Lambda library refuses it before the handler runs.
	if err := r.invoke(t, []byte(`{`)); err == nil {
		t.Error("truncated JSON accepted")
	}
	for _, raw := range []string{`[]`, `"x"`, `{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":7}}`} {
		err := r.invoke(t, []byte(raw))
		if err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s: err %v", raw, err)
		}
	}
	if r.f.Count() != 0 {
		t.Errorf("%d calls on malformed input", r.f.Count())
	}
}

func TestSNSDownKeepsTheAlert(t *testing.T) {
	bucket := fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}`}
	snsDown := fake.FailOp("sns:Publish", fake.APIError("InternalError", "SNS is having a bad day"))
	t.Run("fallback queue", func(t *testing.T) {
		r := newRig(t)
		r.f.Put("acme-invoices-prod", bucket)
		r.f.Fault = snsDown
		r.h.Incidents.Alerts.Fallback, r.h.Incidents.Alerts.FallbackURL = r.f.Queue(), "https://sqs.eu-west-1.amazonaws.com/111122223333/bucketguard-undelivered"
		if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
			t.Fatalf("spilled alert still failed the invocation: %v", err)
		}
		sent := r.f.Sent()
		if len(sent) != 1 || !strings.Contains(sent[0].Body, `"schema":"bucketguard.alert/v2"`) || sent[0].Attributes["publish_error"] == "" {
			t.Fatalf("fallback got %+v", sent)
		}
		if b, _ := r.f.Bucket("acme-invoices-prod"); strings.Contains(b.Policy, "s3:PutObject") {
			t.Error("fix not applied")
		}
	})
	t.Run("no fallback: error and the alert in the log", func(t *testing.T) {
		r := newRig(t)
		r.f.Put("acme-invoices-prod", bucket)
		r.f.Fault = snsDown
		err := r.invoke(t, sample(t, "PutBucketPolicy"))
		if err == nil || !strings.Contains(r.logs.String(), `"delivery":"undelivered"`) || !strings.Contains(r.logs.String(), `bucketguard.alert/v2`) {
			t.Errorf("err %v, logs %s", err, r.logs.String())
		}
	})
}

func TestTransientReadIsRetriedWithoutAlert(t *testing.T) {
	r := newRig(t)
	r.f.Put("acme-invoices-prod", fake.Bucket{})
	r.f.Fault = fake.FailOp("s3:GetBucketPolicy", fake.HTTPError(500))
	err := r.invoke(t, sample(t, "PutBucketPolicy"))
	if err == nil || len(r.f.Published()) != 0 {
		t.Errorf("err %v, %d published", err, len(r.f.Published()))
	}
}

func TestProcessReportsTheResult(t *testing.T) {
	r := newRig(t)
	r.h.Incidents.Alerts = nil // the CLI's dry run: render, do not send
	r.f.Put("acme-invoices-prod", fake.Bucket{})
	rep, err := r.h.Process(context.Background(), sample(t, "DeleteBucketPublicAccessBlock"))
	if err != nil || rep.Result == nil || rep.Message == nil || rep.MessageID != "" {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if rep.Result.Status != contract.Remediated {
		t.Errorf("outcome %s", rep.Result.Status)
	}
}

// The access point events, each as CloudTrail writes it, lead to
// the access point's public statement being removed and an alert that names
// it: a bucket's access point through its bucket (found from the access
// point when the event does not name it), an Object Lambda or Multi-Region
// one on its own.
func TestAccessPointEvents(t *testing.T) {
	const open = `{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}`
	for _, tc := range []struct {
		sample, accessPoint string
		ap                  fake.AccessPoint
		want                string // in the alert's subject
	}{
		{"CreateAccessPoint", "partner-uploads", fake.AccessPoint{Bucket: "acme-invoices-prod", Policy: open}, "acme-invoices-prod"},
		{"PutAccessPointPolicy", "partner-uploads", fake.AccessPoint{Bucket: "acme-invoices-prod", Policy: open}, "acme-invoices-prod"},
		{"PutAccessPointPolicyForObjectLambda", "redacted-invoices", fake.AccessPoint{Kind: posture.ObjectLambdaAccessPoint, Policy: open}, "Object Lambda access point redacted-invoices"},
		{"PutMultiRegionAccessPointPolicy", "acme-global", fake.AccessPoint{Kind: posture.MultiRegionAccessPoint, Policy: open}, "Multi-Region Access Point acme-global"},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			r := newRig(t)
			on := posture.AllOn
			r.f.Put("acme-invoices-prod", fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"},
				Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::acme-invoices-prod","arn:aws:s3:::acme-invoices-prod/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`})
			r.f.PutAccessPoint(tc.accessPoint, tc.ap)
			if err := r.invoke(t, sample(t, tc.sample)); err != nil {
				t.Fatal(err)
			}
			pub := r.f.Published()
			if len(pub) != 1 || !strings.Contains(pub[0].Subject, tc.want) || !strings.Contains(pub[0].Message, tc.accessPoint) {
				t.Fatalf("published %+v", pub)
			}
			ap, _ := r.f.AccessPoint(tc.accessPoint)
			if strings.Contains(ap.Policy, `"Allow"`) {
				t.Errorf("access point policy still grants: %s", ap.Policy)
			}
		})
	}
}

// Event-driven fixes are never budgeted: with the sweep's fix budget at 0,
// an event is still fixed (an attacker cannot switch protection off by
// spending a budget).
func TestEventsAreNotBudgeted(t *testing.T) {
	r := newRig(t)
	r.h.Incidents.Engine.Config.SweepFixBudget = 0
	r.f.Put("acme-invoices-prod", fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-invoices-prod/*"}]}`})
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	if b, _ := r.f.Bucket("acme-invoices-prod"); strings.Contains(b.Policy, "PublicRead") {
		t.Fatalf("the event was not fixed: %s", b.Policy)
	}
}

// The canary's change is timed: its delay from CloudTrail's eventTime to
// its arrival is one log line the stack's CanaryDelay metric takes (the
// event path's time to detect, in the account), and the canary's bucket is
// then evaluated like any other. A change to another bucket is no canary.
func TestCanaryIsTimed(t *testing.T) {
	r := newRig(t)
	raw := sample(t, "PutBucketPublicAccessBlock") // the canary's call, as CloudTrail logs it
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	eventTime, err := time.Parse(time.RFC3339, detail["eventTime"].(string))
	if err != nil {
		t.Fatal(err)
	}
	bucket := detail["requestParameters"].(map[string]any)["bucketName"].(string)
	r.f.Put(bucket, fake.Bucket{})
	r.h.Now = func() time.Time { return eventTime.Add(90 * time.Second) }
	r.h.Incidents.Engine.Config.CanaryBucket = "bucketguard-canary-elsewhere"
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.logs.String(), `"msg":"canary"`) {
		t.Fatal("a change to another bucket was taken for the canary")
	}
	r.h.Incidents.Engine.Config.CanaryBucket = bucket
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	for _, l := range strings.Split(r.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"canary"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line == nil || line["delay_ms"] != float64(90000) {
		t.Fatalf("canary line %v, want delay_ms 90000", line)
	}
	if r.f.Count("s3:GetBucketPolicy") == 0 {
		t.Error("the canary's bucket was not evaluated")
	}
}
